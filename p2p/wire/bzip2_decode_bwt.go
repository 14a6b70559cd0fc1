package wire

import "errors"

// unBWT undoes the Burrows-Wheeler transform of the n bytes in d.tt (the
// last column of the sorted rotations; origPtr the row of the block
// itself) and the first run-length stage, and appends the block's bytes to
// dst, which it does not let grow past limit bytes (errBzip2Limit).
func (d *bzip2Decoder) unBWT(dst []byte, n, origPtr, limit int) ([]byte, error) {
	tt := d.tt[:n]
	// Where each byte's rows start in the first column (the sorted bytes).
	var start [256]int32
	for _, v := range tt {
		start[byte(v)]++
	}
	sum := int32(0)
	for b, c := range start {
		start[b] = sum
		sum += c
	}
	// Row i's byte of the last column comes, in the first, at the next
	// place of its value; that row's link (high 24 bits) is i: the row
	// that follows it in the block. Only the high bits are written, so the
	// low byte of a row not yet reached is intact.
	for i, v := range tt {
		b := byte(v)
		tt[start[b]] |= uint32(i) << 8
		start[b]++
	}

	// Follow the links from the block's first byte, undoing the runs: 4
	// equal bytes and a count of 0 to 255 more.
	out := len(dst)
	if cap(dst)-out < n {
		dst = bzip2Grow(dst, n, limit)
	}
	buf := dst[:min(cap(dst), limit)]
	pos := tt[origPtr] >> 8
	last, same := -1, 0 // the byte before and how many times in a row
	for i := 0; i < n; i++ {
		v := tt[pos]
		pos = v >> 8
		b := byte(v)
		if same == 4 {
			// b is the count of a run: more copies of the byte before.
			r := int(b)
			if r > len(buf)-out {
				if r > limit-out {
					return buf[:out], errBzip2Limit
				}
				dst = bzip2Grow(buf[:out], max(r, n-i), limit)
				buf = dst[:min(cap(dst), limit)]
			}
			c := byte(last)
			for j := range buf[out : out+r] {
				buf[out+j] = c
			}
			out += r
			last, same = -1, 0
			continue
		}
		if int(b) == last {
			same++
		} else {
			last, same = int(b), 1
		}
		if out >= len(buf) {
			if out >= limit {
				return buf[:out], errBzip2Limit
			}
			dst = bzip2Grow(buf[:out], n-i, limit)
			buf = dst[:min(cap(dst), limit)]
		}
		buf[out] = b
		out++
	}
	if same == 4 {
		return buf[:out], errors.New("bzip2: block ends with 4 equal bytes and no count")
	}
	return buf[:out], nil
}
