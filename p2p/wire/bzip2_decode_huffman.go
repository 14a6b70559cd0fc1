package wire

const (
	// bzip2MaxDecodeLen is the longest code a table may give (libbz2's
	// limit; encoders make 17 at most).
	bzip2MaxDecodeLen = 20
	// huffmanLUTBits is how many bits the lookup table takes: codes up to
	// that long (nearly all symbols of text) are one lookup.
	huffmanLUTBits = 10
)

// huffmanDecoder reads the canonical code of one table (by rising length,
// by symbol within a length, as assignCodes makes them): codes of up to
// huffmanLUTBits bits from a table indexed by the next bits, longer ones
// by comparing the next 20 bits with the end of each length's codes.
type huffmanDecoder struct {
	// lut holds for each value of the next huffmanLUTBits bits the symbol
	// they start (<<5) and its code's length, or 0 when the code is longer
	// (or no code starts so).
	lut [1 << huffmanLUTBits]uint16
	// limit[l] is the end of the codes of length l, left-justified to 20
	// bits: the next 20 bits v are a code of length l if v < limit[l] and
	// v >= limit[l-1].
	limit [bzip2MaxDecodeLen + 2]uint32
	// base[l] is the index in perm of the first code of length l, less
	// that code's value.
	base   [bzip2MaxDecodeLen + 1]int32
	perm   [bzip2MaxAlpha]uint16 // the symbols by their codes
	maxLen uint
}

// init makes the decoder of the code lengths lens (1 to 20 each). It
// returns false for a degenerate set of lengths, one with unused bit
// patterns or with more codes than bits allow, which no encoder makes. Such
// a set is read as libbz2 reads it (and dsnet/compress, not compress/bzip2):
// codes given in the canonical order while they fit, the later ones never
// read, and a pattern that starts no code an error when it is read.
func (h *huffmanDecoder) init(lens []uint8) (complete bool) {
	var count [bzip2MaxDecodeLen + 1]int32
	maxLen := uint8(0)
	for _, l := range lens {
		count[l]++
		maxLen = max(maxLen, l)
	}
	// Kraft: each length doubles the codes left.
	left := int64(1)
	for l := 1; l <= bzip2MaxDecodeLen; l++ {
		left = 2*left - int64(count[l])
		if left < 0 {
			break
		}
	}
	complete = left == 0
	// The first code of each length and where its symbols go in perm.
	var next [bzip2MaxDecodeLen + 1]int32 // the next code of each length
	var at [bzip2MaxDecodeLen + 1]int32   // the next index in perm of each length
	code, idx := int32(0), int32(0)
	for l := 1; l <= bzip2MaxDecodeLen; l++ {
		next[l], at[l] = code, idx
		h.base[l] = idx - code
		code = (code + count[l])
		h.limit[l] = uint32(code) << (bzip2MaxDecodeLen - l)
		code <<= 1
		idx += count[l]
	}
	h.limit[bzip2MaxDecodeLen+1] = 0
	h.maxLen = uint(maxLen)
	clear(h.lut[:])
	for s, l := range lens {
		h.perm[at[l]] = uint16(s)
		at[l]++
		c := next[l]
		next[l]++
		if l <= huffmanLUTBits && c < 1<<l { // past 1<<l: over-subscribed, never read
			shift := huffmanLUTBits - l
			e := uint16(s)<<5 | uint16(l)
			lo := int(c) << shift
			for i := range 1 << shift {
				h.lut[lo+i] = e
			}
		}
	}
	return complete
}

// long reads a code longer than huffmanLUTBits from the top of acc; ok is
// false when the bits start no code.
func (h *huffmanDecoder) long(acc uint64) (sym uint16, l uint, ok bool) {
	v := uint32(acc >> (64 - bzip2MaxDecodeLen))
	for l = huffmanLUTBits + 1; l <= h.maxLen; l++ {
		if v < h.limit[l] {
			return h.perm[h.base[l]+int32(v>>(bzip2MaxDecodeLen-l))], l, true
		}
	}
	return 0, 0, false
}
