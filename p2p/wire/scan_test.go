package wire_test

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/p2pnode/p2pnode/p2p/wire"
)

// scanReference is ScanFrame in two passes: IndexByte, then a byte check.
func scanReference(b []byte) (int, []byte) {
	i := bytes.IndexByte(b, wire.EOT)
	if i < 0 {
		return -1, b
	}
	return i, b[:i]
}

func isASCII(p []byte) bool {
	for _, c := range p {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func checkScan(t *testing.T, b []byte) {
	t.Helper()
	eot, ascii := wire.ScanFrame(b)
	want, before := scanReference(b)
	if !assert.Equal(t, want, eot, "EOT of %q", b) {
		return
	}
	if ascii {
		// Reported ASCII: it must be (a false "no" is allowed past scanSmall).
		assert.True(t, isASCII(before), "%q is not ASCII", before)
	} else if len(before) < 256 {
		assert.False(t, isASCII(before), "%q is ASCII", before)
	}
	for _, k := range []wire.Kind{wire.ClassifyText(before, ascii)} {
		assert.Equal(t, wire.Classify(before), k, "kind of %q", before)
	}
}

// TestScanFrame checks ScanFrame against IndexByte and a byte-by-byte
// ASCII check, for EOTs and high bytes at every position of short and long
// buffers (the word loop, the byte tail and the long path).
func TestScanFrame(t *testing.T) {
	for n := 0; n <= 300; n++ {
		base := bytes.Repeat([]byte("a"), n)
		checkScan(t, base)
		for at := 0; at < n; at++ {
			b := append([]byte(nil), base...)
			b[at] = wire.EOT
			checkScan(t, b)
			for hi := 0; hi < n; hi += 1 + n/16 {
				c := append([]byte(nil), b...)
				if hi != at {
					c[hi] = 0xC3
				}
				checkScan(t, c)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, rng.IntN(600))
		for i := range b {
			b[i] = byte(rng.IntN(128))
			switch rng.IntN(40) {
			case 0:
				b[i] = byte(0x80 + rng.IntN(128))
			case 1:
				b[i] = wire.EOT
			}
		}
		checkScan(t, b)
	}
	// Valid UTF-8 that is not ASCII, and JSON.
	for _, s := range []string{"héllo\x04", `{"a":1}` + "\x04x", "[NaN]\x04", "123\x04", "\x04"} {
		checkScan(t, []byte(s))
		assert.True(t, utf8.ValidString(s))
	}
}

var sink int

// BenchmarkScanFrame compares one pass over a 64 B frame with IndexByte
// followed by Classify.
func BenchmarkScanFrame(b *testing.B) {
	frame := append(bytes.Repeat([]byte("message payload "), 4), wire.EOT, 'm', 'e')
	b.Run("one-pass", func(b *testing.B) {
		for range b.N {
			i, ascii := wire.ScanFrame(frame)
			sink += i + int(wire.ClassifyText(frame[:i], ascii))
		}
	})
	b.Run("two-pass", func(b *testing.B) {
		for range b.N {
			i := bytes.IndexByte(frame, wire.EOT)
			sink += i + int(wire.Classify(frame[:i]))
		}
	})
}

func BenchmarkScanParts(b *testing.B) {
	frame := append(bytes.Repeat([]byte("message payload "), 4), wire.EOT, 'm', 'e')
	b.Run("scan", func(b *testing.B) {
		for range b.N {
			i, _ := wire.ScanFrame(frame)
			sink += i
		}
	})
	b.Run("indexbyte", func(b *testing.B) {
		for range b.N {
			sink += bytes.IndexByte(frame, wire.EOT)
		}
	})
	b.Run("utf8", func(b *testing.B) {
		for range b.N {
			if utf8.Valid(frame[:64]) {
				sink++
			}
		}
	})
	b.Run("classifytext", func(b *testing.B) {
		for range b.N {
			sink += int(wire.ClassifyText(frame[:64], true))
		}
	})
}
