package wire

import "errors"

// unBWT undoes the Burrows-Wheeler transform of the n bytes in d.tt (the
// last column of the sorted rotations, their counts in d.count; origPtr
// the row of the block itself) and the first run-length stage, and appends
// the block's bytes to dst, which it does not let grow past limit bytes
// (errBzip2Limit).
func (d *bzip2Decoder) unBWT(dst []byte, n, origPtr, limit int) ([]byte, error) {
	if cap(d.lf) < n {
		d.lf = make([]uint32, cap(d.tt))
		d.blk = make([]byte, cap(d.tt))
	}
	tt, lf, blk := d.tt[:n], d.lf[:n], d.blk[:n]
	// Where each byte's rows start in the first column (the sorted bytes).
	var start [256]int32
	sum := int32(0)
	for b, c := range d.count {
		start[b] = sum
		sum += c
	}
	// Row i's byte b of the last column is, in the first, at the next place
	// r of b's: lf[i] is r (and b), and tt[r]'s link (high 24 bits) is i,
	// the row that follows r in the block. Only the high bits are written,
	// so the low byte of a row not yet reached is intact. Text repeats a
	// byte in most rows: a run of them takes consecutive places, without
	// waiting on start[b] for each.
	for i := 0; i < n; {
		b := byte(tt[i])
		r := start[b]
		j := i
		for ; j < n && byte(tt[j]) == b; j++ {
			tt[r] |= uint32(j) << 8
			lf[j] = uint32(r)<<8 | uint32(b)
			r++
		}
		start[b] = r
		i = j
	}

	// The block's bytes, following the links forward from its first byte
	// and backward from its last (origPtr's byte), two chains of loads in
	// flight instead of one.
	fwd := tt[origPtr] >> 8
	back := uint32(origPtr)
	half := n / 2
	for k := range half {
		v := tt[fwd]
		fwd = v >> 8
		blk[k] = byte(v)
		u := lf[back]
		back = u >> 8
		blk[n-1-k] = byte(u)
	}
	if n%2 == 1 {
		blk[half] = byte(tt[fwd])
	}
	return bzip2UnRLE(dst, blk, limit)
}

// bzip2UnRLE appends to dst the bytes of the block blk, undoing the first
// run-length stage (4 equal bytes, then a count of 0 to 255 more), no more
// than limit bytes in all.
func bzip2UnRLE(dst, blk []byte, limit int) ([]byte, error) {
	if cap(dst)-len(dst) < len(blk) {
		dst = bzip2Grow(dst, len(blk), limit)
	}
	n := len(blk)
	for i := 0; i < n; {
		// The bytes up to the next 4 equal ones go as they are.
		j := i
		for j+3 < n && (blk[j] != blk[j+1] || blk[j] != blk[j+2] || blk[j] != blk[j+3]) {
			j++
		}
		lit := min(j+4, n) - i
		if lit > limit-len(dst) {
			return dst, errBzip2Limit
		}
		if lit > cap(dst)-len(dst) {
			dst = bzip2Grow(dst, max(lit, n-i), limit)
		}
		dst = append(dst, blk[i:i+lit]...)
		if j+3 >= n {
			break
		}
		if j+4 == n {
			return dst, errors.New("bzip2: block ends with 4 equal bytes and no count")
		}
		// Then as many more as the count says.
		r := int(blk[j+4])
		i = j + 5
		if r > limit-len(dst) {
			return dst, errBzip2Limit
		}
		if r > cap(dst)-len(dst) {
			dst = bzip2Grow(dst, max(r, n-i), limit)
		}
		c, k := blk[j], len(dst)
		dst = dst[:k+r]
		for x := range dst[k:] {
			dst[k+x] = c
		}
	}
	return dst, nil
}
