package wire

// A bzip2 encoder (level 9: blocks of up to 900 kB), written for this
// package because the only other pure-Go one spent most of its time
// sorting each block doubled (issue 20). The stages, as the format has
// them: a run-length pass over the input (runs of 4 to 255 bytes become 4
// bytes and a count), the Burrows-Wheeler transform of each block
// (bzip2_bwt.go), move-to-front with runs of zeros in bijective base 2
// (RUNA, RUNB), and Huffman codes from up to six tables, one chosen per 50
// symbols (the entropy back end below).

import (
	"bytes"
	"encoding/binary"
)

const (
	bzip2BlockMax  = 900000 - 19 // run-length output per block, as libbz2's level 9
	bzip2GroupSize = 50          // symbols coded with one table
	bzip2Iters     = 4           // refinements of the tables
	bzip2MaxTables = 6
	bzip2MaxAlpha  = 258 // RUNA, RUNB, 255 move-to-front positions, end of block
)

// bzip2CRCTables are the CRC-32 of bzip2 (polynomial 0x04c11db7, most
// significant bit first) of a byte followed by k zero bytes, for k < 8:
// eight bytes at a time.
var bzip2CRCTables = func() (t [8][256]uint32) {
	for i := range t[0] {
		c := uint32(i) << 24
		for range 8 {
			if c&(1<<31) != 0 {
				c = c<<1 ^ 0x04c11db7
			} else {
				c <<= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < 8; k++ {
		for i := range t[k] {
			c := t[k-1][i]
			t[k][i] = c<<8 ^ t[0][c>>24]
		}
	}
	return t
}()

func bzip2CRC(crc uint32, p []byte) uint32 {
	t := &bzip2CRCTables
	for len(p) >= 8 {
		crc ^= binary.BigEndian.Uint32(p)
		crc = t[7][crc>>24] ^ t[6][crc>>16&0xff] ^ t[5][crc>>8&0xff] ^ t[4][crc&0xff] ^
			t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]]
		p = p[8:]
	}
	for _, b := range p {
		crc = crc<<8 ^ t[0][byte(crc>>24)^b]
	}
	return crc
}

// bzip2Encoder compresses whole payloads; it keeps its scratch (about 10
// bytes per input byte of a block) for the next payload.
type bzip2Encoder struct {
	block []byte   // run-length output of the block being made
	last  []byte   // the block's last column
	mtf   []uint16 // its symbols after move-to-front and the zero runs
	sel   []uint8  // table of each group of 50 symbols
	bwt   bwtSorter
	huff  huffmanBuilder
	bits  bitWriter
}

// encode appends to dst the bzip2 stream of data at level 9.
func (e *bzip2Encoder) encode(dst, data []byte) []byte {
	e.bits = bitWriter{out: append(dst, 'B', 'Z', 'h', '9')}
	combined := uint32(0)
	for len(data) > 0 {
		used := e.fillBlock(data)
		crc := ^bzip2CRC(^uint32(0), data[:used])
		data = data[used:]
		combined = (combined<<1 | combined>>31) ^ crc
		e.writeBlock(crc)
	}
	e.bits.write(0x177245, 24)
	e.bits.write(0x385090, 24)
	e.bits.write(combined, 32)
	return e.bits.flush()
}

// fillBlock run-length codes the start of data into e.block, up to a
// block's worth, and returns how many bytes of data it took.
func (e *bzip2Encoder) fillBlock(data []byte) int {
	// Runs of 4 grow by a count byte: at most 5/4 of the input.
	if need := min(bzip2BlockMax, len(data)+len(data)/4+8); cap(e.block) < need {
		e.block = make([]byte, 0, need)
	}
	b := e.block[:0]
	i := 0
	// Each turn leaves room for a run (5 bytes) or fills the block.
	for i < len(data) && len(b) < bzip2BlockMax-5 {
		// Bytes before the next run of 4 go as they are.
		start := i
		end := min(len(data), i+bzip2BlockMax-5-len(b))
		for i+3 < end && !(data[i] == data[i+1] && data[i] == data[i+2] && data[i] == data[i+3]) {
			i++
		}
		if i+3 >= end {
			i = end
		}
		b = append(b, data[start:i]...)
		if i == end {
			continue
		}
		c := data[i]
		r := 4
		for r < 255 && i+r < len(data) && data[i+r] == c {
			r++
		}
		b = append(b, c, c, c, c, byte(r-4))
		i += r
	}
	e.block = b
	return i
}

// writeBlock writes the block in e.block: its header, tables and symbols.
func (e *bzip2Encoder) writeBlock(crc uint32) {
	n := len(e.block)
	if cap(e.last) < n {
		e.last = make([]byte, n)
	}
	e.last = e.last[:n]
	orig := e.bwt.transform(e.block, e.last)

	var inUse [256]bool
	for _, c := range e.block {
		inUse[c] = true
	}
	w := &e.bits
	w.write(0x314159, 24)
	w.write(0x265359, 24)
	w.write(crc, 32)
	w.write(0, 1) // not randomised
	w.write(uint32(orig), 24)
	var used16 uint32
	for i := range 16 {
		for j := range 16 {
			if inUse[i*16+j] {
				used16 |= 1 << (15 - i)
				break
			}
		}
	}
	w.write(used16, 16)
	for i := range 16 {
		if used16&(1<<(15-i)) != 0 {
			var m uint32
			for j := range 16 {
				if inUse[i*16+j] {
					m |= 1 << (15 - j)
				}
			}
			w.write(m, 16)
		}
	}
	alpha, freq := e.moveToFront(&inUse)
	e.writeSymbols(alpha, &freq)
}

// moveToFront turns e.last into e.mtf: each byte's position in a list of
// the bytes in use, moved to the front when seen; runs of position 0 are
// written as their length in bijective base 2 (digits RUNA=1 and RUNB=2,
// least significant first), other positions p as p+1, and the end of the
// block as the last symbol. It returns the alphabet's size and the symbols'
// frequencies.
func (e *bzip2Encoder) moveToFront(inUse *[256]bool) (int, [bzip2MaxAlpha]int32) {
	var seq [256]byte
	var list [256]byte
	k := 0
	for c, u := range inUse {
		if u {
			seq[c] = byte(k)
			list[k] = byte(k)
			k++
		}
	}
	alpha := k + 2
	var freq [bzip2MaxAlpha]int32
	if cap(e.mtf) < len(e.last)+1 {
		e.mtf = make([]uint16, 0, len(e.last)+1)
	}
	out := e.mtf[:0]
	zeros := 0
	flush := func() {
		for z := zeros - 1; ; z = (z - 2) / 2 {
			s := uint16(z & 1) // RUNA or RUNB
			out = append(out, s)
			freq[s]++
			if z < 2 {
				break
			}
		}
		zeros = 0
	}
	for _, c := range e.last {
		v := seq[c]
		if list[0] == v {
			zeros++
			continue
		}
		if zeros > 0 {
			flush()
		}
		// Find v and shift the list before it by one: a byte at a time
		// near the front, where text finds most bytes; beyond, with
		// IndexByte and copy, whose calls cost less than long loops.
		prev := list[0]
		j := 1
		for ; j < 16; j++ {
			cur := list[j]
			list[j] = prev
			if cur == v {
				break
			}
			prev = cur
		}
		if j == 16 {
			j = 16 + bytes.IndexByte(list[16:k], v)
			copy(list[17:j+1], list[16:j])
			list[16] = prev
		}
		list[0] = v
		out = append(out, uint16(j+1))
		freq[j+1]++
	}
	if zeros > 0 {
		flush()
	}
	out = append(out, uint16(alpha-1))
	freq[alpha-1]++
	e.mtf = out
	return alpha, freq
}

// writeSymbols chooses the Huffman tables of e.mtf, and writes them, the
// table of each group and the symbols.
func (e *bzip2Encoder) writeSymbols(alpha int, freq *[bzip2MaxAlpha]int32) {
	syms := e.mtf
	nGroups := (len(syms) + bzip2GroupSize - 1) / bzip2GroupSize
	nTables := 6
	switch {
	case len(syms) < 200:
		nTables = 2
	case len(syms) < 600:
		nTables = 3
	case len(syms) < 1200:
		nTables = 4
	case len(syms) < 2400:
		nTables = 5
	}
	var lens [bzip2MaxTables][bzip2MaxAlpha]uint8
	// First tables: each cheap for one band of symbols holding about an
	// equal share of the total frequency, dear for the rest.
	remaining := int32(len(syms))
	lo := 0
	for t := nTables; t > 0; t-- {
		target := remaining / int32(t)
		hi, sum := lo-1, int32(0)
		for sum < target && hi < alpha-1 {
			hi++
			sum += freq[hi]
		}
		// As libbz2 does, the band of a middle table stops short of a
		// symbol that would take it past its share.
		if hi > lo && t != nTables && t != 1 && (nTables-t)%2 == 1 {
			sum -= freq[hi]
			hi--
		}
		tab := &lens[nTables-t]
		for s := range alpha {
			if s >= lo && s <= hi {
				tab[s] = 0
			} else {
				tab[s] = 15
			}
		}
		remaining -= sum
		lo = hi + 1
	}

	if cap(e.sel) < nGroups {
		e.sel = make([]uint8, nGroups)
	}
	sel := e.sel[:nGroups]
	var tfreq [bzip2MaxTables][bzip2MaxAlpha]int32
	// The costs of a symbol in all tables, packed 10 bits a table: a
	// group's costs are then one sum (at most 50*17 < 1<<10 each).
	var packed [bzip2MaxAlpha]uint64
	for range bzip2Iters {
		for t := range nTables {
			clear(tfreq[t][:alpha])
		}
		for s := range alpha {
			var c uint64
			for t := range nTables {
				c |= uint64(lens[t][s]) << (10 * t)
			}
			packed[s] = c
		}
		for g := range nGroups {
			grp := syms[g*bzip2GroupSize : min((g+1)*bzip2GroupSize, len(syms))]
			var sum uint64
			for _, s := range grp {
				sum += packed[s]
			}
			best, bestCost := 0, sum&1023
			for t := 1; t < nTables; t++ {
				if c := sum >> (10 * t) & 1023; c < bestCost {
					best, bestCost = t, c
				}
			}
			sel[g] = uint8(best)
			f := &tfreq[best]
			for _, s := range grp {
				f[s]++
			}
		}
		for t := range nTables {
			e.huff.lengths(tfreq[t][:alpha], lens[t][:alpha])
		}
	}

	w := &e.bits
	w.write(uint32(nTables), 3)
	w.write(uint32(nGroups), 15)
	// The tables of the groups, move-to-front coded, in unary.
	order := [bzip2MaxTables]uint8{0, 1, 2, 3, 4, 5}
	for _, t := range sel {
		j := 0
		for order[j] != t {
			j++
		}
		copy(order[1:j+1], order[:j])
		order[0] = t
		w.write((1<<(j+1))-2, uint(j+1)) // j ones, then a zero
	}
	// Each table's code lengths: the first in 5 bits, then each as a
	// change from the one before (10: one more, 11: one less, 0: done).
	var codes [bzip2MaxTables][bzip2MaxAlpha]uint32
	for t := range nTables {
		l := lens[t][:alpha]
		assignCodes(l, codes[t][:alpha])
		cur := l[0]
		w.write(uint32(cur), 5)
		for _, sl := range l {
			for cur < sl {
				w.write(2, 2)
				cur++
			}
			for cur > sl {
				w.write(3, 2)
				cur--
			}
			w.write(0, 1)
		}
	}
	for g := range nGroups {
		grp := syms[g*bzip2GroupSize : min((g+1)*bzip2GroupSize, len(syms))]
		l, c := &lens[sel[g]], &codes[sel[g]]
		for _, s := range grp {
			w.write(c[s], uint(l[s]))
		}
	}
}

// bitWriter appends bits, most significant first, to out.
type bitWriter struct {
	out  []byte
	acc  uint64 // pending bits (fewer than 32), in the low nacc bits
	nacc uint
}

// write appends the low n bits of v (n <= 32).
func (w *bitWriter) write(v uint32, n uint) {
	w.acc = w.acc<<n | uint64(v)
	w.nacc += n
	if w.nacc >= 32 {
		w.nacc -= 32
		w.out = binary.BigEndian.AppendUint32(w.out, uint32(w.acc>>w.nacc))
	}
}

// flush pads the last byte with zeros and returns the output.
func (w *bitWriter) flush() []byte {
	for w.nacc >= 8 {
		w.nacc -= 8
		w.out = append(w.out, byte(w.acc>>w.nacc))
	}
	if w.nacc > 0 {
		w.out = append(w.out, byte(w.acc<<(8-w.nacc)))
	}
	w.acc, w.nacc = 0, 0
	return w.out
}
