package wire

import "bytes"

// Suffix sorting by induced sorting (SA-IS, Nong, Zhang and Chan 2009):
// linear time, and on text several times faster than the comparison sorts
// of a bzip2 block. The bzip2 encoder sorts the suffixes of its block with
// a short wrap appended (bzip2_bwt.go) instead of the rotations directly.

// saisArena hands out the scratch slices of one suffix sort, so that a
// reused encoder sorts without allocating.
type saisArena struct {
	ints  []int32
	bytes []byte
	ni    int
	nb    int
}

func (a *saisArena) reset() { a.ni, a.nb = 0, 0 }

func (a *saisArena) int32s(n int) []int32 {
	if a.ni+n > len(a.ints) {
		// Grown by the total the sort will need at most (2n for the
		// buckets and types of all levels), so this happens once per size.
		a.ints = make([]int32, max(2*len(a.ints), a.ni+n, 1024))
		a.ni = 0
	}
	s := a.ints[a.ni : a.ni+n : a.ni+n]
	a.ni += n
	return s
}

func (a *saisArena) byteSlice(n int) []byte {
	if a.nb+n > len(a.bytes) {
		a.bytes = make([]byte, max(2*len(a.bytes), a.nb+n, 1024))
		a.nb = 0
	}
	s := a.bytes[a.nb : a.nb+n : a.nb+n]
	a.nb += n
	return s
}

// suffixSort fills sa (len(sa) == len(t)) with the start positions of
// t's suffixes in sorted order; t's symbols are below k.
func suffixSort[T byte | int32](t []T, sa []int32, k int, a *saisArena) {
	n := len(t)
	switch n {
	case 0:
		return
	case 1:
		sa[0] = 0
		return
	}
	// isS[i]: 0 when suffix i is larger than suffix i+1 (L-type), 1 when
	// smaller (S-type), 2 when smaller and suffix i-1 is L-type (LMS). The
	// suffix past the end (the sentinel) is the smallest, so the last
	// symbol is L-type.
	isS := a.byteSlice(n)
	isS[n-1] = 0
	// The LMS positions, from the last down (at most every other one).
	lms := a.int32s(n/2 + 1)[:0]
	for i := n - 2; i >= 0; i-- {
		if t[i] < t[i+1] || (t[i] == t[i+1] && isS[i+1] != 0) {
			isS[i] = 1
		} else {
			isS[i] = 0
			if isS[i+1] != 0 {
				isS[i+1] = 2
				lms = append(lms, int32(i+1))
			}
		}
	}
	m := len(lms)
	isLMS := func(i int) bool { return isS[i] == 2 }

	cnt := a.int32s(k)
	clear(cnt)
	for _, c := range t {
		cnt[c]++
	}
	bkt := a.int32s(k)

	// Step 1: the LMS suffixes at the ends of their buckets, in text order;
	// inducing from them sorts the LMS substrings.
	for i := range sa {
		sa[i] = -1
	}
	bucketEnds(cnt, bkt)
	for _, p := range lms {
		bkt[t[p]]--
		sa[bkt[t[p]]] = p
	}
	induce(t, sa, isS, cnt, bkt)

	// Step 2: name the LMS substrings in their sorted order; equal
	// substrings share a name.
	j := 0
	for _, p := range sa {
		if p >= 0 && isLMS(int(p)) {
			sa[j] = p
			j++
		}
	}
	// The length of each LMS substring (to the next LMS position, both
	// included) at sa[m+p/2]: LMS positions are at least 2 apart, and
	// substrings of equal length and symbols have equal types too.
	next := int32(n) // the last LMS substring ends at the sentinel: unique
	for _, p := range lms {
		if next == int32(n) {
			sa[m+int(p)/2] = int32(n + 1)
		} else {
			sa[m+int(p)/2] = next - p + 1
		}
		next = p
	}
	name := int32(0)
	prev, prevLen := -1, int32(0)
	for i := 0; i < m; i++ {
		p := int(sa[i])
		l := sa[m+p/2]
		if l != prevLen || int(l) > n || !equalSymbols(t[prev:prev+int(l)], t[p:p+int(l)]) {
			name++
		}
		prev, prevLen = p, l
		sa[m+p/2] = name - 1
	}
	// The names in text order, at the end of sa: the reduced string. From
	// the last down, each lands at or above where its name was read (LMS
	// positions are at least 2 apart and below n-1), above the names still
	// to read.
	for j := m - 1; j >= 0; j-- {
		sa[n-m+j] = sa[m+int(lms[m-1-j])/2]
	}
	s1 := sa[n-m:]
	sa1 := sa[:m]
	if int(name) < m {
		suffixSort(s1, sa1, int(name), a)
	} else {
		for i, c := range s1 {
			sa1[c] = int32(i)
		}
	}

	// Step 3: the LMS suffixes in their sorted order (sa1 holds indexes
	// into the LMS positions in text order), at the ends of their
	// buckets; inducing from them sorts all suffixes.
	for i := range sa1 {
		sa1[i] = lms[m-1-int(sa1[i])]
	}
	for i := m; i < n; i++ {
		sa[i] = -1
	}
	bucketEnds(cnt, bkt)
	for i := m - 1; i >= 0; i-- {
		p := sa[i]
		sa[i] = -1
		bkt[t[p]]--
		sa[bkt[t[p]]] = p
	}
	induce(t, sa, isS, cnt, bkt)
}

// induce sorts the L-type suffixes from the LMS ones in sa (left to right)
// and then the S-type ones from the L-type ones (right to left).
func induce[T byte | int32](t []T, sa []int32, isS []byte, cnt, bkt []int32) {
	n := len(t)
	bucketStarts(cnt, bkt)
	// The sentinel comes first; it induces the last suffix.
	c := t[n-1]
	sa[bkt[c]] = int32(n - 1)
	bkt[c]++
	// In this pass sa holds L-type and LMS suffixes only, so j (before
	// one of them) is L-type exactly when its symbol is not smaller.
	for i := 0; i < n; i++ {
		j := sa[i] - 1
		if j >= 0 && t[j] >= t[j+1] {
			c := t[j]
			sa[bkt[c]] = j
			bkt[c]++
		}
	}
	bucketEnds(cnt, bkt)
	for i := n - 1; i >= 0; i-- {
		j := sa[i] - 1
		if j >= 0 && isS[j] != 0 {
			c := t[j]
			bkt[c]--
			sa[bkt[c]] = j
		}
	}
}

// equalSymbols reports whether a and b hold the same symbols.
func equalSymbols[T byte | int32](a, b []T) bool {
	if ab, ok := any(a).([]byte); ok {
		return bytes.Equal(ab, any(b).([]byte))
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func bucketStarts(cnt, bkt []int32) {
	sum := int32(0)
	for c, v := range cnt {
		bkt[c] = sum
		sum += v
	}
}

func bucketEnds(cnt, bkt []int32) {
	sum := int32(0)
	for c, v := range cnt {
		sum += v
		bkt[c] = sum
	}
}
