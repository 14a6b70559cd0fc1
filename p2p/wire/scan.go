package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
)

// Word masks for the scan: every byte 0x01, EOT, or its high bit.
const (
	lows  = 0x0101010101010101
	eots  = EOT * lows
	highs = 0x8080808080808080
)

// scanSmall is the length up to which ScanFrame reads word by word; past
// it, the runtime's vectorised IndexByte and utf8.Valid are faster even as
// two passes, and the call overhead no longer matters.
const scanSmall = 256

// ScanFrame finds the first EOT in b (-1 when there is none) and reports
// whether the bytes before it (all of b when there is none) are known to be
// ASCII, and so valid UTF-8, in one pass over them: a reader of small frames
// would otherwise read each frame twice, once for its end and once to
// classify it (ClassifyText). When ascii is false the bytes may still be
// UTF-8; past scanSmall bytes they are not looked at for it.
func ScanFrame(b []byte) (eot int, ascii bool) {
	var hi uint64
	i := 0
	// Two words a step, tested together: most steps find neither an EOT
	// nor, in text, a high bit.
	for rest := b; len(rest) >= 16 && i < scanSmall; rest = rest[16:] {
		w0 := binary.LittleEndian.Uint64(rest[:8])
		w1 := binary.LittleEndian.Uint64(rest[8:16])
		x0, x1 := w0^eots, w1^eots
		// A zero byte of x is an EOT of w; the lowest flagged byte is exact
		// (a borrow only flags bytes above a zero one).
		z0, z1 := (x0-lows)&^x0&highs, (x1-lows)&^x1&highs
		if z0|z1 != 0 {
			if z0 == 0 {
				hi |= w0
				w0, z0, i = w1, z1, i+8
			}
			k := bits.TrailingZeros64(z0) / 8
			// Only the bytes before the EOT count.
			hi = (hi | w0&(1<<(8*k)-1)) & highs
			return i + k, hi == 0
		}
		hi |= w0 | w1
		i += 16
	}
	hi &= highs
	if i < len(b) && i >= scanSmall {
		// A large frame: its bytes are classified later, by Classify.
		k := bytes.IndexByte(b[i:], EOT)
		if k < 0 {
			return -1, false
		}
		return i + k, false
	}
	for ; i < len(b); i++ {
		c := b[i]
		if c == EOT {
			return i, hi == 0
		}
		hi |= uint64(c & 0x80)
	}
	return -1, hi == 0
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
