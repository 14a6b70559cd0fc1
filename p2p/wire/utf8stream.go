package wire

import "unicode/utf8"

// UTF8Stream checks that a payload arriving in pieces is valid UTF-8, one
// piece at a time, so that a reader can check each piece as it arrives,
// while it is in the cache, instead of the whole payload once more when its
// end comes. A rune split between two pieces is carried over (at most three
// bytes). The zero value is a stream with nothing fed; Reset makes it so.
type UTF8Stream struct {
	carry [utf8.UTFMax]byte
	n     int  // bytes in carry: the start of a rune the next piece ends
	bad   bool // an invalid sequence was fed
	fed   bool // a piece was fed since the last Reset
}

// Reset forgets what was fed.
func (s *UTF8Stream) Reset() { *s = UTF8Stream{} }

// Fed reports whether anything was fed since the last Reset.
func (s *UTF8Stream) Fed() bool { return s.fed }

// Feed checks the next piece of the payload.
func (s *UTF8Stream) Feed(b []byte) {
	s.fed = true
	if s.bad || len(b) == 0 {
		return
	}
	if s.n > 0 {
		// The rune begun in the previous piece: its length is told by its
		// first byte (FullRune was false for it, so that byte is a valid
		// start of a multi-byte rune).
		need := runeLen(s.carry[0])
		k := copy(s.carry[s.n:need], b)
		s.n += k
		b = b[k:]
		if s.n < need {
			return
		}
		s.n = 0
		if !utf8.Valid(s.carry[:need]) {
			s.bad = true
			return
		}
		if len(b) == 0 {
			return
		}
	}
	// The last rune may go on in the next piece: it is carried over when
	// it is the valid start of a rune that is not complete yet. Elsewhere
	// a split at a byte that is not a continuation byte splits no valid
	// sequence, so each side can be checked alone.
	k := len(b) - 1
	for k > 0 && k > len(b)-utf8.UTFMax && b[k]&0xC0 == 0x80 {
		k--
	}
	if !utf8.FullRune(b[k:]) {
		s.n = copy(s.carry[:], b[k:])
		b = b[:k]
	}
	if !utf8.Valid(b) {
		s.bad = true
	}
}

// Valid reports whether what was fed is valid UTF-8 as a whole (a rune cut
// short at the end is not).
func (s *UTF8Stream) Valid() bool { return !s.bad && s.n == 0 }

// runeLen is the length of the rune that starts with the valid leading
// byte c of a multi-byte rune.
func runeLen(c byte) int {
	switch {
	case c >= 0xF0:
		return 4
	case c >= 0xE0:
		return 3
	}
	return 2
}
