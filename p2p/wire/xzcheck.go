package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// maxXZDict is the largest LZMA2 dictionary a received .xz body may declare:
// Python's largest preset (9) uses 64 MiB. The decoder allocates what the
// header declares, so without this check a 60-byte frame could make it
// allocate 4 GiB.
const maxXZDict = 64 << 20

var errXZ = errors.New("wire: lzma body is not a well-formed .xz stream")

// checkXZ walks the blocks of an .xz body before it is decoded, the way the
// decoder will meet them, and fails when one declares a dictionary over
// maxXZDict. The index cannot be trusted for this: the decoder reads every
// block before it reaches the index, so a block the index leaves out would
// be allocated for before the lie is found. LZMA2 chunks carry their sizes,
// so the walk decodes nothing. What follows the blocks (index, footer) is
// left to the decoder.
func checkXZ(data []byte) error {
	const headerLen = 12
	if len(data) < headerLen || string(data[:6]) != "\xfd7zXZ\x00" {
		return errXZ
	}
	checkLen := [16]int{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}[data[7]&0x0f]
	pos := headerLen
	for pos < len(data) && data[pos] != 0 { // 0 starts the index
		start := pos
		size := (int(data[pos]) + 1) * 4
		if pos+size > len(data) {
			return errXZ
		}
		hdr := data[pos+1 : pos+size-4] // flags to the end of the filter flags
		flags, i := hdr[0], 1
		for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
			if present {
				_, n, ok := uvarint(hdr[i:])
				if !ok {
					return errXZ
				}
				i += n
			}
		}
		for range int(flags&3) + 1 {
			id, n, ok := uvarint(hdr[i:])
			if !ok {
				return errXZ
			}
			i += n
			props, n, ok := uvarint(hdr[i:])
			if !ok || uint64(len(hdr)-i-n) < props {
				return errXZ
			}
			i += n
			if id == 0x21 && props == 1 {
				if dict := lzma2Dict(hdr[i]); dict > maxXZDict {
					return fmt.Errorf("%w: lzma body declares a %d-byte dictionary (limit %d)", ErrTooLarge, dict, maxXZDict)
				}
			}
			i += int(props)
		}
		pos += size
		for { // LZMA2 chunks, up to the end marker
			if pos >= len(data) {
				return errXZ
			}
			c := data[pos]
			if c == 0 {
				pos++
				break
			}
			hl := 3 // uncompressed chunk: control, size
			switch {
			case c >= 0xc0:
				hl = 6 // LZMA chunk: control, unpacked size, packed size, properties
			case c >= 0x80:
				hl = 5
			case c > 2:
				return errXZ
			}
			if pos+hl > len(data) {
				return errXZ
			}
			n := int(binary.BigEndian.Uint16(data[pos+1:])) + 1 // uncompressed chunk: its size
			if c >= 0x80 {
				n = int(binary.BigEndian.Uint16(data[pos+3:])) + 1 // LZMA chunk: packed size
			}
			pos += hl + n
		}
		pos += (4-(pos-start)%4)%4 + checkLen // block padding, check
	}
	return nil
}

// lzma2Dict decodes LZMA2's one-byte dictionary size.
func lzma2Dict(b byte) uint64 {
	if b >= 40 {
		return 1<<32 - 1
	}
	return uint64(2|b&1) << (b/2 + 11)
}

// uvarint reads xz's multibyte integer (at most 9 bytes).
func uvarint(b []byte) (uint64, int, bool) {
	var v uint64
	for i := 0; i < len(b) && i < 9; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, true
		}
	}
	return 0, 0, false
}
