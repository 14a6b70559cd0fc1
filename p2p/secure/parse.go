package secure

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// ErrSyntax is wrapped by Parse's errors.
var ErrSyntax = errors.New("secure: invalid JSON")

// Parse reads one JSON value as Python's json.loads does, keeping what
// Canonical needs to write it back byte for byte: objects become
// map[string]any (a repeated key keeps its last value), arrays []any,
// numbers json.Number with their exact text (so integers of any size
// survive), NaN, Infinity and -Infinity float64, strings Go strings in which
// a lone surrogate escape (\ud800) is kept as a three-byte sequence (WTF-8).
// Control characters inside strings are rejected, as Python's strict mode
// does.
func Parse(data []byte) (any, error) {
	p := parser{s: data}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return nil, p.errorf("extra data")
	}
	return v, nil
}

type parser struct {
	s []byte
	i int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", ErrSyntax, fmt.Sprintf(format, args...), p.i)
}

func (p *parser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) literal(word string) bool {
	if len(p.s)-p.i >= len(word) && string(p.s[p.i:p.i+len(word)]) == word {
		p.i += len(word)
		return true
	}
	return false
}

func (p *parser) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested deeper than %d", maxDepth)
	}
	if p.i >= len(p.s) {
		return nil, p.errorf("expecting value")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.str()
	case p.literal("null"):
		return nil, nil
	case p.literal("true"):
		return true, nil
	case p.literal("false"):
		return false, nil
	case p.literal("NaN"):
		return math.NaN(), nil
	case p.literal("Infinity"):
		return math.Inf(1), nil
	case p.literal("-Infinity"):
		return math.Inf(-1), nil
	case c == '-' || c >= '0' && c <= '9':
		n := numberLen(p.s, p.i)
		if n == 0 {
			return nil, p.errorf("expecting value")
		}
		tok := string(p.s[p.i : p.i+n])
		p.i += n
		return json.Number(tok), nil
	}
	return nil, p.errorf("expecting value")
}

func (p *parser) object(depth int) (any, error) {
	p.i++ // '{'
	m := make(map[string]any)
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return m, nil
	}
	for {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.errorf("expecting property name enclosed in double quotes")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.errorf("expecting ':' delimiter")
		}
		p.i++
		p.skipSpace()
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, p.errorf("expecting ',' delimiter")
		}
		switch p.s[p.i] {
		case '}':
			p.i++
			return m, nil
		case ',':
			p.i++
			p.skipSpace()
		default:
			return nil, p.errorf("expecting ',' delimiter")
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	p.i++ // '['
	a := make([]any, 0, 4)
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return a, nil
	}
	for {
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, p.errorf("expecting ',' delimiter")
		}
		switch p.s[p.i] {
		case ']':
			p.i++
			return a, nil
		case ',':
			p.i++
			p.skipSpace()
		default:
			return nil, p.errorf("expecting ',' delimiter")
		}
	}
}

// str reads a string token; p.s[p.i] is its opening quote.
func (p *parser) str() (string, error) {
	p.i++
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			s := string(p.s[start:p.i])
			p.i++
			if !utf8.ValidString(s) {
				return "", p.errorf("string is not UTF-8")
			}
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.i++
	}
	out := append([]byte(nil), p.s[start:p.i]...)
	for {
		if p.i >= len(p.s) {
			return "", p.errorf("unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			if !validWTF8(string(out)) {
				return "", p.errorf("string is not UTF-8")
			}
			return string(out), nil
		case c < 0x20:
			return "", p.errorf("invalid control character")
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			return "", p.errorf("unterminated string")
		}
		esc := p.s[p.i+1]
		p.i += 2
		switch esc {
		case '"', '\\', '/':
			out = append(out, esc)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(p.s, p.i)
			if !ok {
				return "", p.errorf("invalid \\uXXXX escape")
			}
			p.i += 4
			// A high surrogate followed by an escaped low one is one
			// character; any other surrogate stays as it is (Python's rule).
			if r >= 0xd800 && r <= 0xdbff && p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
				if r2, ok := hex4(p.s, p.i+2); ok && r2 >= 0xdc00 && r2 <= 0xdfff {
					r = 0x10000 + (r-0xd800)<<10 + (r2 - 0xdc00)
					p.i += 6
				}
			}
			out = appendWTF8(out, r)
		default:
			p.i -= 2
			return "", p.errorf("invalid \\escape")
		}
	}
}

func hex4(s []byte, i int) (rune, bool) {
	if len(s)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// numberLen returns the length of the JSON number token at s[i:]
// (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?), or 0 when there is none.
func numberLen[T ~string | ~[]byte](s T, i int) int {
	j := i
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && s[j] >= '1' && s[j] <= '9':
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
	default:
		return 0
	}
	if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
		j += 2
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	return j - i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
