package wire

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// utf8Samples mixes ASCII, multi-byte runes, and broken sequences, around
// text longer than utf8.Valid's ASCII blocks.
func utf8Samples() [][]byte {
	ascii := []byte("plain ASCII text, long enough to fill a block or two of 32 bytes.")
	samples := [][]byte{
		nil, {}, ascii,
		[]byte("héllo wörld ✓ 😀 " + string(ascii) + "€"),
		append(append([]byte{}, ascii...), 0xF0, 0x9F, 0x98, 0x80),    // ends with a 4-byte rune
		append(append([]byte{}, ascii...), 0xF0, 0x9F, 0x98),          // cut short
		append(append([]byte{}, ascii...), 0xE2, 0x82),                // cut short
		append(append([]byte{}, ascii...), 0xC3),                      // cut short
		append(append([]byte{0xE2, 0x82, 0xAC}, ascii...), 0x80),      // stray continuation
		append(append([]byte{}, ascii...), 0xED, 0xA0, 0x80, 'x'),     // surrogate
		append(append([]byte{}, ascii...), 0xC0, 0x80),                // overlong
		append(append([]byte{}, ascii...), 0xF4, 0x90, 0x80, 0x80),    // above U+10FFFF
		append(append([]byte{}, ascii...), 0xE2, 'x', 0xAC, 'y', 'z'), // lead without its continuation
		append([]byte{0x80, 0x80, 0x80}, ascii...),
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 200 {
		b := make([]byte, 0, 300)
		for len(b) < 200+rng.IntN(100) {
			switch rng.IntN(6) {
			case 0:
				b = utf8.AppendRune(b, rune(0x80+rng.IntN(0x10FFFF-0x80)))
			case 1:
				if rng.IntN(20) == 0 {
					b = append(b, byte(0x80+rng.IntN(0x80)))
				}
			default:
				b = append(b, byte('a'+rng.IntN(26)))
			}
		}
		samples = append(samples, b)
	}
	return samples
}

// Fed in pieces split at every offset (two pieces), and in random pieces,
// a payload is found valid exactly when utf8.Valid says so.
func TestUTF8StreamMatchesValid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, b := range utf8Samples() {
		want := utf8.Valid(b)
		var s UTF8Stream
		for cut := 0; cut <= len(b); cut++ {
			s.Reset()
			s.Feed(b[:cut])
			s.Feed(b[cut:])
			if s.Valid() != want {
				t.Fatalf("%q cut at %d: valid %v, utf8.Valid %v", b, cut, s.Valid(), want)
			}
		}
		for range 20 {
			s.Reset()
			for rest := b; len(rest) > 0; {
				k := min(len(rest), rng.IntN(40))
				s.Feed(rest[:k])
				rest = rest[k:]
			}
			if s.Valid() != want {
				t.Fatalf("%q in random pieces: valid %v, utf8.Valid %v", b, s.Valid(), want)
			}
		}
	}
}

func FuzzUTF8Stream(f *testing.F) {
	for _, b := range utf8Samples()[:14] {
		f.Add(b, uint16(3))
	}
	f.Fuzz(func(t *testing.T, b []byte, seed uint16) {
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		var s UTF8Stream
		for rest := b; len(rest) > 0; {
			k := min(len(rest), rng.IntN(8))
			s.Feed(rest[:k])
			rest = rest[k:]
		}
		if s.Valid() != utf8.Valid(b) {
			t.Fatalf("%q: valid %v", b, s.Valid())
		}
	})
}

func BenchmarkUTF8Stream(b *testing.B) {
	p := make([]byte, 32<<10)
	for i := range p {
		p[i] = 'a' + byte(i%26)
	}
	b.Run("stream", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		var s UTF8Stream
		for range b.N {
			s.Feed(p)
		}
	})
	b.Run("utf8.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(p)))
		for range b.N {
			utf8.Valid(p)
		}
	})
}
