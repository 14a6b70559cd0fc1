package secure

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCanonicalPythonTable compares C(d) with what Python wrote for the
// cases of testdata/canonical.json (made by testdata/gen_canonical.py).
func TestCanonicalPythonTable(t *testing.T) {
	data, err := os.ReadFile("testdata/canonical.json")
	require.NoError(t, err)
	var cases []struct {
		Name  string
		Input *string
		Float *string
		Want  string
	}
	require.NoError(t, json.Unmarshal(data, &cases))
	require.NotEmpty(t, cases)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			var v any
			switch {
			case tc.Input != nil:
				v, err = Parse([]byte(*tc.Input))
				require.NoError(t, err)
			case tc.Float != nil:
				f, err := strconv.ParseFloat(*tc.Float, 64)
				require.NoError(t, err)
				v = f
			}
			got, err := Canonical(v)
			require.NoError(t, err)
			assert.Equal(t, tc.Want, string(got))
			// Parse and write again: unchanged.
			v2, err := Parse(got)
			require.NoError(t, err)
			again, err := Canonical(v2)
			require.NoError(t, err)
			assert.Equal(t, tc.Want, string(again))
		})
	}
}

// TestCanonicalGoValues covers Go values handed to Canonical directly; the
// expected strings are Python's for the equivalent Python values.
func TestCanonicalGoValues(t *testing.T) {
	two70, _ := new(big.Int).SetString("1180591620717411303424", 10)
	type point struct {
		X int     `json:"x"`
		Y float64 `json:"y"`
		Z string  `json:"z,omitempty"`
	}
	var nilMap map[string]any
	var nilPtr *point
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, "null"},
		{"bools", []any{true, false}, "[true, false]"},
		{"ints", []any{0, -1, int8(-128), int64(math.MinInt64), uint64(math.MaxUint64)}, "[0, -1, -128, -9223372036854775808, 18446744073709551615]"},
		{"big int", two70, "1180591620717411303424"},
		{"negative big int", new(big.Int).Neg(two70), "-1180591620717411303424"},
		{"floats", []any{1.0, 0.1, 1e16, 1e-5, 123456789.123, math.Copysign(0, -1), 5e-324, 1.7976931348623157e308},
			"[1.0, 0.1, 1e+16, 1e-05, 123456789.123, -0.0, 5e-324, 1.7976931348623157e+308]"},
		{"specials", []any{math.Inf(1), math.Inf(-1), math.NaN()}, "[Infinity, -Infinity, NaN]"},
		{"float32", float32(0.1), "0.10000000149011612"},
		{"json numbers", []any{json.Number("1"), json.Number("-0"), json.Number("1.50"), json.Number("1E2")}, "[1, 0, 1.5, 100.0]"},
		{"string escapes", "a\"\\/\n\r\t\b\f\x00\x1f\x7fé€😀", `"a\"\\/\n\r\t\b\f\u0000\u001f\u007f\u00e9\u20ac\ud83d\ude00"`},
		{"sorted keys", map[string]any{"b": 1, "a": map[string]any{"d": []any{}, "c": map[string]any{}}, "é": nil, "😀": "x", "\uffff": 2},
			`{"a": {"c": {}, "d": []}, "b": 1, "\u00e9": null, "\uffff": 2, "\ud83d\ude00": "x"}`},
		{"struct (whole floats become ints)", point{X: 1, Y: 2.5}, `{"x": 1, "y": 2.5}`},
		{"pointer to struct", &point{Z: "é"}, `{"x": 0, "y": 0, "z": "\u00e9"}`},
		{"typed floats", map[string]float64{"one": 1, "tenth": 0.1}, `{"one": 1.0, "tenth": 0.1}`},
		{"named types", []any{myFloat(3), myString("s"), myInt(-2)}, `[3.0, "s", -2]`},
		{"array", [2]int{1, 2}, `[1, 2]`},
		{"raw message", json.RawMessage(`{"b":1.0,"a":[]}`), `{"a": [], "b": 1.0}`},
		{"nil slice", []any(nil), "null"},
		{"typed map and slice", map[string][]string{"k": {"v", "w"}}, `{"k": ["v", "w"]}`},
		{"nil map", nilMap, "null"},
		{"nil pointer", nilPtr, "null"},
		{"bytes as base64", []byte("hi"), `"aGk="`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Canonical(tc.v)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
}

type (
	myFloat  float64
	myString string
	myInt    int
)

func TestCanonicalErrors(t *testing.T) {
	for name, v := range map[string]any{
		"invalid utf-8 string": "a\xffb",
		"invalid utf-8 key":    map[string]any{"\xff": 1},
		"bad number":           json.Number("01"),
		"bad number text":      json.Number("1."),
		"too many digits":      json.Number(strings.Repeat("9", maxIntDigits+1)),
		"channel":              make(chan int),
	} {
		_, err := Canonical(v)
		assert.ErrorIs(t, err, ErrCanonical, name)
	}
	_, err := Canonical(json.Number(strings.Repeat("9", maxIntDigits)))
	assert.NoError(t, err)
}

func TestParseRejects(t *testing.T) {
	for _, text := range []string{
		``, ` `, `{`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{1: 2}`, `01`, `1.`, `.5`, `-`, `+1`, `1e`, `1e+`,
		`"abc`, "\"a\x01b\"", "\"tab\there\"", `"\x"`, `"\u12"`, `"\u12g4"`, `nul`, `True`, `nan`, `inf`,
		`-NaN`, `[1 2]`, `{} {}`, `"\ud800\u12"`, strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2),
	} {
		_, err := Parse([]byte(text))
		assert.ErrorIs(t, err, ErrSyntax, "%q", text)
	}
	v, err := Parse([]byte(`{"a": 1, "a": 2}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": json.Number("2")}, v)
}

func TestHash(t *testing.T) {
	// python3 -c 'import json,hashlib; print(hashlib.sha512(json.dumps({"b": [1.0, "\u00e9"], "a": 1}, sort_keys=True).encode()).hexdigest())'
	h, err := Hash(map[string]any{"b": []any{1.0, "é"}, "a": 1})
	require.NoError(t, err)
	assert.Equal(t, "5c10334395d3ac37357b5f49579fbb9c7307076c8433aa15b984e6862053bcdc99ca5451c4b15e28370cbc2ebec21a28982df206965a22f4a3747ca1a928177d", h)
}

// TestCanonicalFuzzPython compares C(d) with Python's json.dumps for many
// random JSON documents, parsed on both sides from the same text.
func TestCanonicalFuzzPython(t *testing.T) {
	python := requirePython(t, false)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(1, seed))
	docs := make([]string, 3000)
	for i := range docs {
		var b strings.Builder
		genValue(rng, &b, 0)
		docs[i] = b.String()
	}
	in, err := json.Marshal(docs)
	require.NoError(t, err)
	cmd := exec.Command(python, "-c", `
import json, sys
docs = json.loads(sys.stdin.buffer.read().decode("utf-8"))
json.dump([json.dumps(json.loads(d), sort_keys=True) for d in docs], sys.stdout)
`)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var want []string
	require.NoError(t, json.Unmarshal(out, &want))
	require.Len(t, want, len(docs))
	failures := 0
	for i, doc := range docs {
		v, err := Parse([]byte(doc))
		if !assert.NoError(t, err, "doc %q", doc) {
			failures++
			continue
		}
		got, err := Canonical(v)
		if !assert.NoError(t, err) || !assert.Equal(t, want[i], string(got), "doc %q", doc) {
			failures++
		}
		if failures > 10 {
			t.Fatal("too many failures")
		}
	}
}

// genValue writes a random JSON value, in the varied forms a peer may send.
func genValue(rng *rand.Rand, b *strings.Builder, depth int) {
	ws := func() {
		if rng.IntN(4) == 0 {
			b.WriteString([]string{" ", "\n", "\t", "\r\n ", "  "}[rng.IntN(5)])
		}
	}
	ws()
	kinds := 10
	if depth > 4 {
		kinds = 8 // leaves only
	}
	kind := rng.IntN(kinds)
	if depth == 0 {
		kind = 8 + rng.IntN(2) // documents are containers, mostly
	}
	switch kind {
	case 0:
		b.WriteString([]string{"true", "false", "null", "NaN", "Infinity", "-Infinity"}[rng.IntN(6)])
	case 1, 2:
		genString(rng, b)
	case 3:
		genInt(rng, b)
	case 4, 5:
		genFloat(rng, b)
	case 6:
		f := math.Float64frombits(rng.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			f = rng.NormFloat64()
		}
		b.WriteString(strconv.FormatFloat(f, []byte("geEf")[rng.IntN(4)], -1, 64))
	case 7:
		fmt.Fprintf(b, "%v", rng.Float64()*math.Pow(10, float64(rng.IntN(40)-20)))
	case 8:
		b.WriteByte('[')
		for i := range rng.IntN(5) {
			if i > 0 {
				b.WriteByte(',')
			}
			genValue(rng, b, depth+1)
		}
		ws()
		b.WriteByte(']')
	case 9:
		b.WriteByte('{')
		for i := range rng.IntN(6) {
			if i > 0 {
				b.WriteByte(',')
			}
			ws()
			genString(rng, b)
			ws()
			b.WriteByte(':')
			genValue(rng, b, depth+1)
		}
		ws()
		b.WriteByte('}')
	}
	ws()
}

func genInt(rng *rand.Rand, b *strings.Builder) {
	if rng.IntN(3) == 0 {
		b.WriteByte('-')
	}
	n := 1 + rng.IntN(30)
	if rng.IntN(5) == 0 {
		b.WriteByte('0')
		return
	}
	b.WriteByte(byte('1' + rng.IntN(9)))
	for range n - 1 {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
}

func genFloat(rng *rand.Rand, b *strings.Builder) {
	genInt(rng, b)
	hasFrac := rng.IntN(3) > 0
	if hasFrac {
		b.WriteByte('.')
		for range 1 + rng.IntN(25) {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
	}
	if !hasFrac || rng.IntN(2) == 0 {
		b.WriteString([]string{"e", "E", "e+", "e-", "E-"}[rng.IntN(5)])
		b.WriteString(strconv.Itoa(rng.IntN(340)))
	}
}

func genString(rng *rand.Rand, b *strings.Builder) {
	b.WriteByte('"')
	for range rng.IntN(12) {
		switch rng.IntN(12) {
		case 0:
			b.WriteString([]string{`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`}[rng.IntN(8)])
		case 1:
			fmt.Fprintf(b, `\u%04x`, rng.IntN(0x10000)) // any code unit, lone surrogates too
		case 2:
			fmt.Fprintf(b, `\u%04X\u%04x`, 0xd800+rng.IntN(0x400), 0xdc00+rng.IntN(0x400))
		case 3:
			b.WriteRune(rune(0x80 + rng.IntN(0xd800-0x80)))
		case 4:
			b.WriteRune(rune(0xe000 + rng.IntN(0x2000)))
		case 5:
			b.WriteRune(rune(0x10000 + rng.IntN(0x100000)))
		case 6:
			b.WriteByte(0x7f)
		default:
			c := byte(0x20 + rng.IntN(0x5f))
			if c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// requirePython returns the python3 to run, skipping the test without it
// (or without PyCryptodome when crypto is set).
func requirePython(t *testing.T, crypto bool) string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	if crypto {
		if err := exec.Command(python, "-c", "import Crypto.Signature.pkcs1_15").Run(); err != nil {
			t.Skip("PyCryptodome not installed (python3 -m pip install pycryptodome)")
		}
	}
	return python
}
