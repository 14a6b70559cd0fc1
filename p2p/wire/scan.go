package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
)

// highs is a word of bytes with only their high bit set.
const highs = 0x8080808080808080

// scanSmall is the length up to which ScanFrame checks that a frame is
// ASCII; a larger one is left to Classify's UTF-8 check, as the call
// overheads it saves no longer matter.
const scanSmall = 256

// ScanFrame finds the first EOT in b (-1 when there is none) and reports
// whether the bytes before it (all of b when there is none) are known to be
// ASCII, and so valid UTF-8: a frame of text needs no UTF-8 check of its
// own then (ClassifyText), which for small frames cost more than finding
// their end. The end is found by the runtime's vectorised IndexByte; the
// ASCII check reads the frame again, four words a step, while it is in the
// cache, and only up to scanSmall bytes: past that, ascii is false and the
// bytes may still be UTF-8.
func ScanFrame(b []byte) (eot int, ascii bool) {
	eot = bytes.IndexByte(b, EOT)
	frame := b
	if eot >= 0 {
		frame = b[:eot]
	}
	if len(frame) > scanSmall {
		return eot, false
	}
	return eot, isASCII(frame)
}

// isASCII reports whether no byte of p has its high bit set.
func isASCII(p []byte) bool {
	var hi uint64
	for ; len(p) >= 32; p = p[32:] {
		hi |= binary.LittleEndian.Uint64(p[0:8]) | binary.LittleEndian.Uint64(p[8:16]) |
			binary.LittleEndian.Uint64(p[16:24]) | binary.LittleEndian.Uint64(p[24:32])
	}
	for ; len(p) >= 8; p = p[8:] {
		hi |= binary.LittleEndian.Uint64(p)
	}
	for _, c := range p {
		hi |= uint64(c)
	}
	return hi&highs == 0
}

// ClassifyText is Classify for a payload that ScanFrame found ASCII when
// ascii is set: the UTF-8 check, a second pass over the payload, is then
// skipped.
func ClassifyText(payload []byte, ascii bool) Kind {
	if !ascii {
		return Classify(payload)
	}
	if !mayStartJSON(payload) {
		return KindText
	}
	if json.Valid(payload) || validPythonJSON(payload) {
		return KindJSON
	}
	return KindText
}
