package wire

import (
	"encoding/json"
	"unicode/utf8"
)

// Kind is what a received payload is, by the reference's rule.
type Kind int

const (
	// KindJSON is UTF-8 text that parses as one JSON value (so "123" is the
	// number 123).
	KindJSON Kind = iota
	// KindText is other UTF-8 text.
	KindText
	// KindBytes is a payload that is not valid UTF-8.
	KindBytes
)

func (k Kind) String() string {
	switch k {
	case KindJSON:
		return "json"
	case KindText:
		return "text"
	case KindBytes:
		return "bytes"
	}
	return "unknown"
}

// Classify tells how the reference presents payload: a JSON value, a str or
// bytes. Python's json.loads also takes NaN, Infinity and -Infinity, which are
// accepted here too when they stand alone or inside arrays and objects.
func Classify(payload []byte) Kind {
	return ClassifyChecked(payload, utf8.Valid(payload))
}

// ClassifyChecked is Classify for a payload whose UTF-8 validity is known
// already (valid), as a reader that checked it piece by piece while the
// bytes were in the cache knows it (see UTF8Stream): the payload is not
// scanned once more for it.
func ClassifyChecked(payload []byte, valid bool) Kind {
	if !valid {
		return KindBytes
	}
	if !mayStartJSON(payload) {
		// Most text is told apart by its first byte, without a parse (and
		// without the error json.Valid builds for what it rejects).
		return KindText
	}
	if json.Valid(payload) || validPythonJSON(payload) {
		return KindJSON
	}
	return KindText
}

// mayStartJSON reports whether the first byte after JSON white space can
// begin a value for json.Valid or for validPythonJSON (N for NaN, I for
// Infinity). When it cannot, both reject the payload.
func mayStartJSON(p []byte) bool {
	for _, c := range p {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{', '[', '"', '-', 't', 'f', 'n', 'N', 'I':
			return true
		}
		return c >= '0' && c <= '9'
	}
	return false
}

// validPythonJSON handles the non-standard constants Python's json.loads
// accepts by replacing each with the number 0 and re-checking.
// It is only reached for text that plain JSON rejects.
func validPythonJSON(p []byte) bool {
	if !containsConstant(p) {
		return false
	}
	q := make([]byte, 0, len(p))
	var str stringScan
	for i := 0; i < len(p); i++ {
		c := p[i]
		if str.in(c) {
			q = append(q, c)
			continue
		}
		if n := constantAt(p, q, i); n > 0 {
			q = append(q, '0')
			i += n - 1
			continue
		}
		q = append(q, c)
	}
	return json.Valid(q)
}

func containsConstant(p []byte) bool {
	for i := range p {
		if p[i] == 'N' || p[i] == 'I' {
			return true
		}
	}
	return false
}

// constantAt returns the length of the Python constant that starts a value
// at p[i] (q holds what came before, rewritten), or 0.
func constantAt(p, q []byte, i int) int {
	for _, s := range []string{"-Infinity", "Infinity", "NaN"} {
		if len(p)-i < len(s) || string(p[i:i+len(s)]) != s {
			continue
		}
		if prev := lastSignificant(q); prev != 0 && prev != '[' && prev != ',' && prev != ':' {
			return 0
		}
		if end := i + len(s); end < len(p) && isWordByte(p[end]) {
			return 0
		}
		return len(s)
	}
	return 0
}

func lastSignificant(q []byte) byte {
	for j := len(q) - 1; j >= 0; j-- {
		switch q[j] {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return q[j]
	}
	return 0
}

func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
