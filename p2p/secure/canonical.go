package secure

import (
	"crypto/sha512"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds the nesting of parsed JSON; Python's json.loads stops near
// its recursion limit of 1000.
const maxDepth = 1000

// maxIntDigits is the longest integer Python converts from text by default
// (sys.get_int_max_str_digits); json.loads fails on longer ones.
const maxIntDigits = 4300

// ErrCanonical is wrapped by errors about values that have no canonical
// JSON form (a string that is not UTF-8, a number token that is not JSON, a
// Go value encoding/json cannot marshal).
var ErrCanonical = errors.New("secure: value has no canonical JSON form")

// Canonical returns C(v): the bytes Python's json.dumps(v, sort_keys=True)
// writes for the value v would hold after json.loads. Keys are sorted by
// code point at every level, separators are ", " and ": ", strings are
// ASCII with \uXXXX escapes (surrogate pairs above U+FFFF), floats are
// written as Python's repr and integers exactly.
//
// v may hold nil, bool, string, json.Number, float64, float32, any Go
// integer type, *big.Int, []any and map[string]any, as Parse returns them,
// and typed maps (string keys), slices, arrays and pointers of those; other
// values (structs, json.Marshaler) go through encoding/json first, which
// writes a whole float64 field as an integer. A nil map or slice is null. A json.Number is an integer when its text has no '.', 'e' or 'E'
// (Python's rule), a float otherwise. Strings may hold lone surrogates
// encoded as three-byte sequences (WTF-8), as Parse makes them.
func Canonical(v any) ([]byte, error) {
	return appendCanonical(make([]byte, 0, 256), v, 0)
}

// Hash returns H(v): the lowercase hex SHA-512 of Canonical(v).
func Hash(v any) (string, error) {
	b, err := Canonical(v)
	if err != nil {
		return "", err
	}
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:]), nil
}

func appendCanonical(dst []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrCanonical, maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		if x {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case string:
		return appendString(dst, x)
	case json.Number:
		return appendNumber(dst, string(x))
	case float64:
		return appendFloat(dst, x), nil
	case float32:
		return appendFloat(dst, float64(x)), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), nil
	case *big.Int:
		if x == nil {
			return append(dst, "null"...), nil
		}
		return x.Append(dst, 10), nil
	case []any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			var err error
			if dst, err = appendCanonical(dst, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			if !validWTF8(k) {
				return nil, fmt.Errorf("%w: key %q is not UTF-8", ErrCanonical, k)
			}
			keys = append(keys, k)
		}
		// Byte order of UTF-8 (and WTF-8) is code point order: Python's.
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst, _ = appendString(dst, k)
			dst = append(dst, ": "...)
			var err error
			if dst, err = appendCanonical(dst, x[k], depth+1); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	}
	return appendReflect(dst, v, depth)
}

// appendReflect handles other Go values: pointers, maps with string keys,
// slices and arrays and named basic types by their kind (so that a float
// stays a float); structs and values with their own JSON encoding go
// through encoding/json, whose output is then read as Python would.
func appendReflect(dst []byte, v any, depth int) ([]byte, error) {
	switch v.(type) {
	case json.Marshaler, encoding.TextMarshaler:
		return appendViaJSON(dst, v, depth)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return append(dst, "null"...), nil
		}
		return appendCanonical(dst, rv.Elem().Interface(), depth+1)
	case reflect.Bool:
		return appendCanonical(dst, rv.Bool(), depth)
	case reflect.String:
		return appendCanonical(dst, rv.String(), depth)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(dst, rv.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		return appendFloat(dst, rv.Float()), nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		if rv.IsNil() {
			return append(dst, "null"...), nil
		}
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			m[it.Key().String()] = it.Value().Interface()
		}
		return appendCanonical(dst, m, depth)
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			break // bytes: base64 text, as encoding/json writes them
		}
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return append(dst, "null"...), nil
		}
		a := make([]any, rv.Len())
		for i := range a {
			a[i] = rv.Index(i).Interface()
		}
		return appendCanonical(dst, a, depth)
	}
	return appendViaJSON(dst, v, depth)
}

// appendViaJSON marshals v with encoding/json and reads the result as
// Python would. Whole floats inside structs come out as integers this way.
func appendViaJSON(dst []byte, v any, depth int) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %T: %v", ErrCanonical, v, err)
	}
	pv, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %T: %v", ErrCanonical, v, err)
	}
	return appendCanonical(dst, pv, depth)
}

// appendNumber writes a JSON number token as Python re-serialises it.
func appendNumber(dst []byte, s string) ([]byte, error) {
	if numberLen(s, 0) != len(s) {
		return nil, fmt.Errorf("%w: %q is not a JSON number", ErrCanonical, s)
	}
	if !strings.ContainsAny(s, ".eE") {
		digits := strings.TrimPrefix(s, "-")
		if len(digits) > maxIntDigits {
			return nil, fmt.Errorf("%w: integer of %d digits (Python's limit is %d)", ErrCanonical, len(digits), maxIntDigits)
		}
		if digits == "0" {
			return append(dst, '0'), nil // "-0" is the int 0
		}
		// JSON integers have no leading zeros: the token is Python's str(int).
		return append(dst, s...), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, fmt.Errorf("%w: %v", ErrCanonical, err)
	}
	// Out of range: ParseFloat gives ±Inf, as Python's float() does.
	return appendFloat(dst, f), nil
}

// appendFloat writes f as json.dumps does: repr(f), or Infinity, -Infinity
// and NaN.
func appendFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return appendRepr(dst, f)
}

// appendRepr writes Python's repr of a finite float: the shortest digits
// that round-trip, in fixed notation when the decimal exponent is from -4
// to 15, otherwise as d.ddde±XX; a whole number keeps ".0".
func appendRepr(dst []byte, f float64) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	// 'e' with -1 gives the shortest round-trip digits: "-d.ddde±XX".
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	if e[0] == '-' {
		dst = append(dst, '-')
		e = e[1:]
	}
	ePos := slices.Index(e, 'e')
	mant, expText := e[:ePos], e[ePos+1:]
	exp, _ := strconv.Atoi(string(expText))
	digits := make([]byte, 0, len(mant))
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	if exp < -4 || exp >= 16 {
		dst = append(dst, digits[0])
		if len(digits) > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	point := exp + 1 // digits before the decimal point
	switch {
	case point <= 0:
		dst = append(dst, "0."...)
		for range -point {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	case point >= len(digits):
		dst = append(dst, digits...)
		for range point - len(digits) {
			dst = append(dst, '0')
		}
		dst = append(dst, ".0"...)
	default:
		dst = append(dst, digits[:point]...)
		dst = append(dst, '.')
		dst = append(dst, digits[point:]...)
	}
	return dst
}

// appendString writes s quoted as json.dumps does with ensure_ascii.
func appendString(dst []byte, s string) ([]byte, error) {
	const hexDigits = "0123456789abcdef"
	u := func(dst []byte, r rune) []byte {
		return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				dst = append(dst, '\\', '"')
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = u(dst, rune(c))
			}
			i++
			continue
		}
		r, size := decodeWTF8(s[i:])
		if size == 0 {
			return nil, fmt.Errorf("%w: string %q is not UTF-8", ErrCanonical, s)
		}
		i += size
		if r > 0xffff {
			r -= 0x10000
			dst = u(dst, 0xd800+(r>>10)&0x3ff)
			dst = u(dst, 0xdc00+r&0x3ff)
		} else {
			dst = u(dst, r)
		}
	}
	return append(dst, '"'), nil
}

// decodeWTF8 decodes the first character of s, which starts with a byte of
// 0x80 or more, accepting surrogates (U+D800 to U+DFFF) as three-byte
// sequences. It returns size 0 for bytes that are not WTF-8.
func decodeWTF8(s string) (rune, int) {
	if len(s) >= 3 && s[0] == 0xed && s[1] >= 0xa0 && s[1] <= 0xbf && s[2]&0xc0 == 0x80 {
		return rune(s[0]&0x0f)<<12 | rune(s[1]&0x3f)<<6 | rune(s[2]&0x3f), 3
	}
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && size <= 1 {
		return 0, 0
	}
	return r, size
}

func validWTF8(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, size := decodeWTF8(s[i:])
		if size == 0 {
			return false
		}
		i += size
	}
	return true
}

// appendWTF8 appends code point r, encoding surrogates as WTF-8.
func appendWTF8(dst []byte, r rune) []byte {
	if r >= 0xd800 && r <= 0xdfff {
		return append(dst, 0xed, byte(0xa0|(r>>6)&0x1f), byte(0x80|r&0x3f))
	}
	return utf8.AppendRune(dst, r)
}
