package secure

// Fuzz targets of the secure envelope. `go test` runs their seed corpora
// (testdata/fuzz/<FuzzName>/) as ordinary tests; `make fuzz` (.ci/fuzz.sh)
// fuzzes each for a bounded time. The seed files are written by
// TestWriteFuzzSeeds (P2PNODE_WRITE_SEEDS=1 go test -run TestWriteFuzzSeeds).

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzVerify checks arbitrary received payloads: Verify never panics, every
// rejection wraps one of the package's reasons, and an accepted message
// re-verifies after being written back canonically (what a relay does).
// The fields of ping, pong and discovery messages are read as the node
// reads them, which must not panic either.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"_id": "x"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := Verify(payload)
		if err != nil {
			require.True(t, errors.Is(err, ErrMalformed) || errors.Is(err, ErrBadSignature) ||
				errors.Is(err, ErrBadHash) || errors.Is(err, ErrBadMessageID), "unexpected error %v", err)
			return
		}
		require.NotNil(t, m.PublicKey)
		c, err := Canonical(m.Fields)
		require.NoError(t, err)
		m2, err := Verify(c)
		require.NoError(t, err, "an accepted message re-serialised no longer verifies")
		require.Equal(t, m.MessageID, m2.MessageID)
		// What the node does with the fields of its own message types.
		_, _, _, _ = discoveryFields(m)
		_, _ = parseNodes(m.Fields["nodes"])
		_, _ = number(m.Fields["timestamp"])
	})
}

// FuzzParseCanonical checks the JSON reader and writer the checks rest on:
// Parse never panics; it accepts standard JSON that encoding/json accepts
// (valid UTF-8, nesting within the limit) and accepts nothing beyond
// standard JSON but Python's NaN and Infinity; what it reads, Canonical
// writes in a form that reads back to the same bytes (parse, serialise,
// parse, serialise is stable, which the hashes depend on).
func FuzzParseCanonical(f *testing.F) {
	f.Add([]byte(`{"b": 1, "a": [1.0, 1e16, -0.0, "\u00e9"]}`))
	f.Add([]byte(`NaN`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		if err != nil {
			require.ErrorIs(t, err, ErrSyntax)
			if json.Valid(data) && utf8.Valid(data) && nesting(data) < maxDepth {
				t.Fatalf("Parse rejects standard JSON %q: %v", data, err)
			}
			return
		}
		if !strings.Contains(string(data), "NaN") && !strings.Contains(string(data), "Infinity") {
			require.True(t, json.Valid(data), "Parse accepts %q, which is not JSON", data)
		}
		c1, err := Canonical(v)
		if err != nil {
			require.ErrorIs(t, err, ErrCanonical)
			return
		}
		v2, err := Parse(c1)
		require.NoError(t, err, "Canonical wrote %q, which Parse rejects", c1)
		c2, err := Canonical(v2)
		require.NoError(t, err)
		require.Equal(t, string(c1), string(c2), "canonical form is not stable")
	})
}

// nesting is the deepest bracket nesting of data outside strings.
func nesting(data []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range data {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// TestWriteFuzzSeeds writes the seed corpora into testdata/fuzz. It runs
// only with P2PNODE_WRITE_SEEDS=1; the files are kept in the repository.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("P2PNODE_WRITE_SEEDS") != "1" {
		t.Skip("set P2PNODE_WRITE_SEEDS=1 to rewrite testdata/fuzz")
	}
	key := testKeys[0]
	const ts = 1.7e9
	sign := func(data map[string]any) []byte {
		b, err := Sign(key, "node-a", data, 1, 2, ts)
		require.NoError(t, err)
		return b
	}
	fields := func(b []byte) map[string]any {
		v, err := Parse(b)
		require.NoError(t, err)
		return v.(map[string]any)
	}
	canon := func(m map[string]any) []byte {
		b, err := Canonical(m)
		require.NoError(t, err)
		return b
	}
	with := func(b []byte, k string, v any) []byte {
		m := fields(b)
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return canon(m)
	}
	msg := sign(map[string]any{FieldType: "message", "message": "hello"})
	ping := sign(map[string]any{FieldType: "ping", "timestamp": ts, "id": "node-a"})
	answer := sign(map[string]any{FieldType: "discovery_answer", "id": "node-b", "timestamp": ts,
		"nodes": []any{map[string]any{"id": "c", "ip": "127.0.0.1", "port": "8001", "connection": "inbound"}}})
	// A public key of 16384 bits (the most Verify takes) and one over it.
	bigKey := func(bits int) string {
		n, err := rand.Prime(rand.Reader, 64)
		require.NoError(t, err)
		n.Lsh(n, uint(bits-64)).SetBit(n, 0, 1)
		der, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: n, E: 65537})
		require.NoError(t, err)
		return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	}
	seeds := map[string]map[string][]byte{
		"FuzzVerify": {
			"message":         msg,
			"ping":            ping,
			"discovery_ans":   answer,
			"truncated":       msg[:len(msg)/2],
			"bad_base64_sig":  with(msg, FieldSignature, "!!!not base64!!!"),
			"tampered":        with(msg, "message", "hellO"),
			"bad_hash":        with(msg, FieldHash, strings.Repeat("0", 128)),
			"no_signature":    with(msg, FieldSignature, nil),
			"number_id":       with(msg, FieldID, json.Number("1")),
			"nan_timestamp":   with(msg, FieldTimestamp, json.Number("1e999")),
			"not_a_key":       with(msg, FieldPublicKey, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
			"key_16384":       with(msg, FieldPublicKey, bigKey(16384)),
			"key_20000":       with(msg, FieldPublicKey, bigKey(20000)),
			"huge_int":        []byte(strings.Replace(string(msg), `"hello"`, strings.Repeat("7", 4301), 1)),
			"deep":            []byte(strings.Repeat(`{"a": `, 1200) + "1" + strings.Repeat("}", 1200)),
			"array":           []byte(`[1, 2, 3]`),
			"text":            []byte(`hello`),
			"lone_surrogate":  with(msg, "message", "\xed\xa0\x80"),
			"dup_keys":        []byte(`{"_id": "a", "_id": "b"}`),
			"ping_no_ts":      with(ping, "timestamp", nil),
			"answer_bad_port": with(answer, "nodes", []any{map[string]any{"port": "99999"}}),
		},
		"FuzzParseCanonical": {
			"floats":     []byte(`[1.0, 1e16, 1e-5, 0.0001, -0.0, 123456789012345678, 1.5E+300, 5e-324]`),
			"constants":  []byte(`[NaN, Infinity, -Infinity]`),
			"unicode":    []byte(`{"\u00e9": "\ud83d\ude00", "z": "\ud800"}`),
			"sorted":     []byte(`{"b": 1, "a": {"d": [], "c": {}}}`),
			"big_int":    []byte(strings.Repeat("9", 4300)),
			"bigger_int": []byte(strings.Repeat("9", 4301)),
			"overflow":   []byte(`1e999`),
			"neg_zero":   []byte(`-0`),
			"deep_ok":    []byte(strings.Repeat("[", 999) + strings.Repeat("]", 999)),
			"deep_bad":   []byte(strings.Repeat("[", 1001) + strings.Repeat("]", 1001)),
			"control":    []byte("\"a\x01\""),
			"bad_utf8":   []byte("\"\xff\""),
			"escapes":    []byte(`"\b\f\n\r\t\/\\\""`),
			"message":    msg,
		},
	}
	for name, entries := range seeds {
		dir := filepath.Join("testdata", "fuzz", name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for file, b := range entries {
			text := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(b)))
			require.NoError(t, os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644))
		}
	}
}

// FuzzHelpers feeds arbitrary ciphertexts, keys and delegated messages to
// what decrypts and reads them: nothing panics; a bad length or key is an
// error, never a short read; what decrypts has lost only its zero padding
// (DecryptAES of EncryptAES gives the plaintext without its trailing
// zeros); and the steps of a delegated message reject what lacks their
// fields.
func FuzzHelpers(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef"), []byte("k"), []byte(`{"id": "x", "timestamp": 1}`))
	f.Add([]byte{}, []byte{}, []byte(`{"nodes": [{"port": "x"}]}`))
	f.Add([]byte("AAAA"), make([]byte, 32), []byte(`[]`))
	f.Fuzz(func(t *testing.T, data, secret, message []byte) {
		if len(secret) > 64 {
			secret = secret[:64]
		}
		if plain, err := DecryptAES(secret, data); err == nil {
			require.True(t, len(secret) == 16 || len(secret) == 24 || len(secret) == 32)
			require.True(t, len(plain) <= len(data)-16)
			require.False(t, len(plain) > 0 && plain[len(plain)-1] == 0, "zero padding left")
		}
		if plain, err := DecryptAESPassword(secret, data); err == nil {
			require.True(t, len(plain) <= len(data)-32)
		}
		if _, err := testKeys[0].Decrypt(data); err != nil {
			require.ErrorIs(t, err, ErrDecrypt)
		}
		if key := secret; len(key) == 32 {
			ct, err := EncryptAES(key, data)
			require.NoError(t, err)
			back, err := DecryptAES(key, ct)
			require.NoError(t, err)
			require.Equal(t, strings.TrimRight(string(data), "\x00"), string(back))
		}
		_ = VerifyText(testKeys[0].PublicKey(), data, string(secret))
		m, err := ParseMessage(message)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		_, _, _, _ = discoveryFields(m)
		_, _ = parseNodes(m.Fields["nodes"])
	})
}
