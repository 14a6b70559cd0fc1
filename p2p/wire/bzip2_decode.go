package wire

// A bzip2 decoder, written for this package from the format because
// compress/bzip2 and dsnet/compress decode the bench's 64 KiB text at a
// third and a half of libbz2's speed (issue 20). The stages, undone in the
// reverse of bzip2_encode.go's order: the Huffman codes of up to six
// tables, read through a lookup table (bzip2_decode_huffman.go); the runs
// of zeros (RUNA, RUNB) and move-to-front, undone as the symbols are read,
// straight into the array of the inverse Burrows-Wheeler transform; that
// transform, with libbz2's array of a byte and the index of the next row in
// each uint32 and one of the rows before, walked from both ends of the
// block at once, and the first run-length stage (bzip2_decode_bwt.go).
// On the bench's text it decodes about 2x as fast as dsnet/compress, 3x
// compress/bzip2 and a little faster than libbz2 (CPython's bz2).
//
// What it accepts is what libbz2 accepts (Python's bz2, which p2pnetwork
// peers use), but for randomised blocks, which only bzip2 0.9.0 and older
// made and which compress/bzip2 and dsnet/compress refuse too, and for
// bytes after the last stream, which Python ignores when they do not start
// with "BZh" and which are refused here, as compress/bzip2 does.

import (
	"errors"
	"fmt"
	"math"
)

const (
	bzip2BlockMagic = 0x314159265359 // π
	bzip2EndMagic   = 0x177245385090 // √π
	bzip2MaxSel     = 1<<15 - 1      // selectors a block may declare (15 bits)
)

var (
	// errBzip2Limit is returned when the output would exceed the caller's
	// limit; Decompress makes it ErrTooLarge.
	errBzip2Limit = errors.New("bzip2: output exceeds the limit")
	// errBzip2Truncated is returned when the input ends inside a stream.
	errBzip2Truncated = errors.New("bzip2: input ends inside a stream")
	// errBzip2Checksum is returned when a block's or a stream's CRC is not
	// that of the bytes decoded.
	errBzip2Checksum = errors.New("bzip2: checksum mismatch")
)

// bzip2Decoder decodes whole bodies. Its scratch (9 bytes per byte of the
// largest block seen, and 50 KiB of tables) is kept for the next body: a
// pooled decoder allocates only the output.
type bzip2Decoder struct {
	br     bitReader
	tt     []uint32 // the block: bytes, then the inverse BWT's links
	lf     []uint32 // the inverse BWT's links the other way
	blk    []byte   // the block after the inverse BWT
	count  [256]int32
	sel    [bzip2MaxSel]uint8
	tables [bzip2MaxTables]huffmanDecoder
	// degenerate is set when a table of the input was not a complete
	// code: compress/bzip2 reads those otherwise (the fuzz test's concern).
	degenerate bool
}

// decode appends to dst the bytes of the bzip2 streams in src, one after
// the other, and returns dst. maxLen > 0 bounds len(dst) (the output
// before it included): more is errBzip2Limit, found as soon as a block's
// output passes it.
func (d *bzip2Decoder) decode(dst, src []byte, maxLen int) ([]byte, error) {
	limit := math.MaxInt
	if maxLen > 0 {
		limit = len(dst) + maxLen
	}
	d.br = bitReader{src: src}
	d.degenerate = false
	defer func() { d.br.src = nil }() // a pooled decoder keeps no input alive
	br := &d.br
	if len(src) == 0 {
		return dst, fmt.Errorf("%w: empty input", errBzip2Truncated)
	}
	for {
		// The stream header: "BZh" and the block size in 100 kB.
		br.refill()
		if br.peek(24) != 'B'<<16|'Z'<<8|'h' {
			return dst, errors.New("bzip2: not a bzip2 stream (no BZh header)")
		}
		br.skip(24)
		level := br.peek(8)
		br.skip(8)
		if level < '1' || level > '9' {
			return dst, fmt.Errorf("bzip2: block size %q in the header is not 1 to 9", rune(level))
		}
		blockMax := int(level-'0') * 100000
		combined := uint32(0)
		for {
			br.refill()
			magic := uint64(br.peek(24))<<24 | uint64(br.peekAt(24, 24))
			br.skip(48)
			if magic == bzip2EndMagic {
				br.refill()
				want := br.peek(32)
				br.skip(32)
				if br.overrun() {
					return dst, errBzip2Truncated
				}
				if want != combined {
					return dst, fmt.Errorf("%w: stream CRC %08x, decoded bytes have %08x", errBzip2Checksum, want, combined)
				}
				break
			}
			if magic != bzip2BlockMagic {
				if br.overrun() {
					return dst, errBzip2Truncated
				}
				return dst, fmt.Errorf("bzip2: bad block magic %012x", magic)
			}
			var err error
			start := len(dst)
			var want uint32
			if dst, want, err = d.block(dst, blockMax, limit); err != nil {
				return dst, err
			}
			if got := ^bzip2CRC(^uint32(0), dst[start:]); got != want {
				return dst, fmt.Errorf("%w: block CRC %08x, decoded bytes have %08x", errBzip2Checksum, want, got)
			}
			combined = (combined<<1 | combined>>31) ^ want
		}
		// Streams end on a byte boundary; another may follow.
		if br.align() >= len(src) {
			return dst, nil
		}
	}
}

// block reads one block (its magic read) and appends its bytes to dst; it
// returns the CRC the block declares.
func (d *bzip2Decoder) block(dst []byte, blockMax, limit int) ([]byte, uint32, error) {
	br := &d.br
	br.refill()
	crc := br.peek(32)
	br.skip(32)
	br.refill()
	if br.peek(1) != 0 {
		return dst, 0, errors.New("bzip2: randomised blocks (bzip2 0.9.0 and older) are not supported")
	}
	origPtr := int(br.peekAt(1, 24))
	br.skip(25)

	// The bytes in use: a bit per 16 byte values, then 16 bits for each
	// set. They make the starting move-to-front list: 8 bytes a word, the
	// front in the low byte of the first.
	var list [32]uint64
	nInUse := 0
	used16 := br.peek(16)
	br.skip(16)
	for i := range 16 {
		if used16&(0x8000>>i) == 0 {
			continue
		}
		br.refill()
		m := br.peek(16)
		br.skip(16)
		for j := range 16 {
			if m&(0x8000>>j) != 0 {
				list[nInUse/8] |= uint64(i*16+j) << (nInUse % 8 * 8)
				nInUse++
			}
		}
	}
	if nInUse == 0 {
		return dst, 0, errors.New("bzip2: block uses no byte values")
	}
	alpha := nInUse + 2

	br.refill()
	nTables := int(br.peek(3))
	nSel := int(br.peekAt(3, 15))
	br.skip(18)
	if nTables < 2 || nTables > bzip2MaxTables {
		return dst, 0, fmt.Errorf("bzip2: %d Huffman tables, not 2 to 6", nTables)
	}
	if nSel == 0 {
		return dst, 0, errors.New("bzip2: no selectors")
	}
	// The table of each group of 50 symbols, move-to-front coded, in
	// unary: j ones and a zero for the table j places down the list.
	order := [bzip2MaxTables]uint8{0, 1, 2, 3, 4, 5}
	for i := range nSel {
		if br.n < 8 {
			br.refill()
		}
		j := 0
		for br.peek(1) == 1 {
			br.skip(1)
			j++
			if j >= nTables {
				return dst, 0, errors.New("bzip2: selector past the last table")
			}
			if br.n == 0 {
				br.refill()
			}
		}
		br.skip(1)
		t := order[j]
		copy(order[1:j+1], order[:j])
		order[0] = t
		d.sel[i] = t
		if br.overrun() {
			return dst, 0, errBzip2Truncated
		}
	}
	// Each table's code lengths: 5 bits, then per symbol changes (10: one
	// more, 11: one less) ending with a 0.
	var lens [bzip2MaxAlpha]uint8
	for t := range nTables {
		br.refill()
		cur := int(br.peek(5))
		br.skip(5)
		for s := range alpha {
			for {
				if cur < 1 || cur > bzip2MaxDecodeLen {
					return dst, 0, fmt.Errorf("bzip2: code length %d, not 1 to 20", cur)
				}
				if br.n < 2 {
					br.refill()
				}
				if br.peek(1) == 0 {
					br.skip(1)
					break
				}
				cur += 1 - 2*int(br.peekAt(1, 1))
				br.skip(2)
			}
			lens[s] = uint8(cur)
		}
		if br.overrun() {
			return dst, 0, errBzip2Truncated
		}
		if !d.tables[t].init(lens[:alpha]) {
			d.degenerate = true
		}
	}

	n, err := d.symbols(&list, alpha, nSel, blockMax)
	if err != nil {
		return dst, 0, err
	}
	if origPtr >= n {
		return dst, 0, fmt.Errorf("bzip2: origPtr %d past the block's %d bytes", origPtr, n)
	}
	dst, err = d.unBWT(dst, n, origPtr, limit)
	return dst, crc, err
}

// symbols reads the block's symbols, undoing the zero runs and the
// move-to-front as it goes, into d.tt (a byte each), and returns how many
// bytes the block has. list is the move-to-front list, alpha the number
// of symbols (the last is the end of the block).
func (d *bzip2Decoder) symbols(list *[32]uint64, alpha, nSel, blockMax int) (int, error) {
	br := &d.br
	tt := d.tt[:cap(d.tt)]
	clear(d.count[:])
	eob := uint16(alpha - 1)
	k := 0
	run, power := 0, 1
	left := 0 // symbols to the next group
	g := 0
	var tab *huffmanDecoder
	// The reader's state in locals: the loop runs once per symbol.
	acc, nb, pos, src := br.acc, br.n, br.pos, br.src
	for {
		if left == 0 {
			if g >= nSel {
				return 0, errors.New("bzip2: more groups of symbols than selectors")
			}
			// 8 bytes of zeros past the end would be 50 symbols or more.
			if pos > len(src)+8 {
				return 0, errBzip2Truncated
			}
			tab = &d.tables[d.sel[g]]
			g++
			left = bzip2GroupSize
		}
		left--
		if nb < bzip2MaxDecodeLen {
			if pos+8 <= len(src) {
				acc |= (uint64(src[pos])<<56 | uint64(src[pos+1])<<48 | uint64(src[pos+2])<<40 | uint64(src[pos+3])<<32 |
					uint64(src[pos+4])<<24 | uint64(src[pos+5])<<16 | uint64(src[pos+6])<<8 | uint64(src[pos+7])) >> nb
				pos += int(63-nb) >> 3
				nb |= 56
			} else {
				br.acc, br.n, br.pos = acc, nb, pos
				br.refill()
				acc, nb, pos = br.acc, br.n, br.pos
			}
		}
		e := tab.lut[acc>>(64-huffmanLUTBits)]
		l := uint(e & 31)
		sym := e >> 5
		if l == 0 {
			var ok bool
			if sym, l, ok = tab.long(acc); !ok {
				return 0, errors.New("bzip2: bits that are no Huffman code")
			}
		}
		acc <<= l
		nb -= l
		if sym <= 1 { // RUNA, RUNB: a digit of a run of the front byte
			run += power << sym
			power <<= 1
			if run > blockMax-k {
				return 0, fmt.Errorf("bzip2: run of %d bytes past the block's size (%d)", run, blockMax)
			}
			continue
		}
		if run > 0 {
			if k+run > len(tt) {
				tt = d.growTT(k, k+run, blockMax)
			}
			b := uint32(byte(list[0]))
			for i := range tt[k : k+run] {
				tt[k+i] = b
			}
			d.count[b] += int32(run)
			k += run
			run, power = 0, 1
		}
		if sym == eob {
			break
		}
		// Move-to-front: the byte j places down comes to the front, those
		// before it one place down, a word at a time.
		j := uint(sym-1) & 255
		w := j / 8
		p := j % 8 * 8
		b := byte(list[w] >> p)
		keep := ^(uint64(1)<<(p+8) - 1) // the bytes after j in its word
		if w == 0 {
			list[0] = list[0]&keep | list[0]<<8&^keep | uint64(b)
		} else {
			list[w] = list[w]&keep | list[w]<<8&^keep | list[w-1]>>56
			for i := w - 1; i > 0; i-- {
				list[i] = list[i]<<8 | list[i-1]>>56
			}
			list[0] = list[0]<<8 | uint64(b)
		}
		if k >= len(tt) {
			if k >= blockMax {
				return 0, fmt.Errorf("bzip2: block longer than its size (%d)", blockMax)
			}
			tt = d.growTT(k, k+1, blockMax)
		}
		tt[k] = uint32(b)
		d.count[b]++
		k++
	}
	br.acc, br.n, br.pos = acc, nb, pos
	if br.overrun() {
		return 0, errBzip2Truncated
	}
	return k, nil
}

// growTT returns d.tt grown to hold need bytes of a block, its first k
// kept. Most blocks are far smaller than their level allows: the array
// grows as the block does, and stays for the next.
func (d *bzip2Decoder) growTT(k, need, blockMax int) []uint32 {
	t := make([]uint32, min(blockMax, max(need, 2*cap(d.tt), 64<<10)))
	copy(t, d.tt[:k])
	d.tt = t
	return t
}

// bitReader reads src most significant bit first. Past its end it reads
// zeros, which overrun reports.
type bitReader struct {
	src []byte
	pos int    // next byte of src to load; past len(src) for zeros loaded
	acc uint64 // the next n bits, from the top; below them, the bits of src[pos:]
	n   uint
}

// refill loads bytes until at least 56 bits are in acc.
func (b *bitReader) refill() {
	if b.pos+8 <= len(b.src) {
		p := b.src[b.pos : b.pos+8]
		v := uint64(p[0])<<56 | uint64(p[1])<<48 | uint64(p[2])<<40 | uint64(p[3])<<32 |
			uint64(p[4])<<24 | uint64(p[5])<<16 | uint64(p[6])<<8 | uint64(p[7])
		b.acc |= v >> b.n
		b.pos += int(63-b.n) >> 3
		b.n |= 56
		return
	}
	for b.n <= 56 {
		if b.pos < len(b.src) {
			b.acc |= uint64(b.src[b.pos]) << (56 - b.n)
		}
		b.pos++
		b.n += 8
	}
}

// peek returns the next k bits (k <= n, k <= 32).
func (b *bitReader) peek(k uint) uint32 { return uint32(b.acc >> (64 - k)) }

// peekAt returns k bits after the next off (off+k <= n, k <= 32).
func (b *bitReader) peekAt(off, k uint) uint32 { return uint32(b.acc << off >> (64 - k)) }

// skip drops k bits (k <= n).
func (b *bitReader) skip(k uint) {
	b.acc <<= k
	b.n -= k
}

// overrun reports whether more bits were read than src has.
func (b *bitReader) overrun() bool { return 8*b.pos-int(b.n) > 8*len(b.src) }

// align drops the bits to the next byte boundary and returns the offset in
// src of that byte.
func (b *bitReader) align() int {
	b.skip(b.n % 8)
	return b.pos - int(b.n/8)
}

// bzip2Grow returns out with room for at least k more bytes, but for no
// more than limit bytes in all: twice the room it had, so that a long
// output is copied a few times only.
func bzip2Grow(out []byte, k, limit int) []byte {
	t := make([]byte, len(out), min(limit, max(len(out)+k, 2*cap(out))))
	copy(t, out)
	return t
}
