package wire

import "encoding/binary"

// bwtWrap is how many bytes of a block's start are appended to it before
// its suffixes are sorted. Rotations that differ within that many bytes
// sort as their suffixes do; text rarely repeats itself for longer, and a
// block that does is sorted again with itself appended whole.
const bwtWrap = 256

// bwtSorter holds the scratch of the Burrows-Wheeler transform of a block,
// kept from one block to the next.
type bwtSorter struct {
	text  []byte  // the block and its wrap
	sa    []int32 // the suffix array of text
	arena saisArena
}

// transform writes to out (len(out) == len(block)) the last column of the
// sorted rotations of block and returns the row of block itself (bzip2's
// origPtr).
func (s *bwtSorter) transform(block, out []byte) int {
	n := len(block)
	wrap := min(bwtWrap, n)
	for {
		ptr := s.sortWrapped(block, wrap)
		if wrap == n || distinctWithin(s.text, ptr, wrap) {
			orig := 0
			for i, p := range ptr {
				if p == 0 {
					orig = i
					out[i] = block[n-1]
				} else {
					out[i] = block[p-1]
				}
			}
			return orig
		}
		wrap = n
	}
}

// sortWrapped sorts the suffixes of block+block[:wrap] and returns, in
// their order, the starts of those inside block (the rotations).
func (s *bwtSorter) sortWrapped(block []byte, wrap int) []int32 {
	m := len(block) + wrap
	if cap(s.text) < m {
		s.text = make([]byte, m)
		s.sa = make([]int32, m)
	}
	s.text = s.text[:m]
	copy(s.text, block)
	copy(s.text[len(block):], block[:wrap])
	sa := s.sa[:m]
	s.arena.reset()
	suffixSort(s.text, sa, 256, &s.arena)
	n := int32(len(block))
	j := 0
	for _, p := range sa {
		if p < n {
			sa[j] = p
			j++
		}
	}
	return sa[:j]
}

// distinctWithin reports whether the neighbouring rotations in ptr differ
// within their first wrap bytes of text (wrap a multiple of 8), so that their order is that of
// the rotations. Rotations equal for wrap bytes are neighbours in any
// order by their first wrap bytes, so neighbours are enough to check.
func distinctWithin(text []byte, ptr []int32, wrap int) bool {
	for i := 1; i < len(ptr); i++ {
		p, q := int(ptr[i-1]), int(ptr[i])
		// Neighbours in text usually part within tens of bytes: their
		// last words almost always differ, one compare to rule them out.
		a, b := text[p:p+wrap], text[q:q+wrap]
		if binary.LittleEndian.Uint64(a[wrap-8:]) == binary.LittleEndian.Uint64(b[wrap-8:]) && equalWords(a, b) {
			return false
		}
	}
	return true
}

// equalWords is bytes.Equal for slices of a multiple of 8 bytes, which
// usually differ within their first words: cheaper than a call that
// compares 64 bytes at a time.
func equalWords(a, b []byte) bool {
	for len(a) >= 8 {
		if binary.LittleEndian.Uint64(a) != binary.LittleEndian.Uint64(b) {
			return false
		}
		a, b = a[8:], b[8:]
	}
	return true
}
