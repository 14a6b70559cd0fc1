package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// MarshalPython encodes v as JSON the way Python's json.dumps writes a dict
// with its defaults: separators ", " and ": ", non-ASCII characters escaped
// as \uXXXX (surrogate pairs above U+FFFF), and '<', '>', '&' left as they
// are. Key order is encoding/json's (struct field order, sorted map keys).
func MarshalPython(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("wire: encode JSON: %w", err)
	}
	return PythonSpacing(bytes.TrimSuffix(b.Bytes(), []byte("\n"))), nil
}

// PythonSpacing rewrites compact, valid JSON with Python's default separators
// and ASCII-only strings.
func PythonSpacing(compact []byte) []byte {
	out := make([]byte, 0, len(compact)+len(compact)/8)
	var str stringScan
	for i := 0; i < len(compact); {
		c := compact[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(compact[i:])
			out = appendUnicodeEscape(out, r)
			i += size
			continue
		}
		i++
		if str.in(c) {
			out = append(out, c)
			continue
		}
		switch c {
		case ',', ':':
			out = append(out, c, ' ')
		case ' ', '\t', '\n', '\r':
		default:
			out = append(out, c)
		}
	}
	return out
}

// stringScan follows JSON text byte by byte and tells which bytes belong to
// a string literal, quotes included.
type stringScan struct{ inString, escaped bool }

// in reports whether c, the next byte of the text, is part of a string.
func (s *stringScan) in(c byte) bool {
	switch {
	case !s.inString:
		s.inString = c == '"'
		return s.inString
	case s.escaped:
		s.escaped = false
	case c == '\\':
		s.escaped = true
	case c == '"':
		s.inString = false
	}
	return true
}

func appendUnicodeEscape(out []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	u16 := func(v rune) []byte {
		return append(out, '\\', 'u', hex[v>>12&0xf], hex[v>>8&0xf], hex[v>>4&0xf], hex[v&0xf])
	}
	if r > 0xffff {
		r -= 0x10000
		out = u16(0xd800 + (r>>10)&0x3ff)
		return u16(0xdc00 + r&0x3ff)
	}
	return u16(r)
}
