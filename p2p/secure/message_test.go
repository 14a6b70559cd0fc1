package secure

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"maps"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleData() map[string]any {
	return map[string]any{
		"_type":   "message",
		"message": map[string]any{"text": "héllo 😀\n", "n": 1.5, "one": 1.0, "big": json.Number("1180591620717411303424"), "list": []any{nil, true, math.Copysign(0, -1)}},
		// Reserved fields are replaced, as the reference does.
		"_id": "forged", "_signature": "x", "_hash": "y",
	}
}

func TestSignVerify(t *testing.T) {
	data := sampleData()
	before := maps.Clone(data)
	now := 1718000000.123456
	payload, err := Sign(testKeys[0], "node-a", data, 7, 3, now)
	require.NoError(t, err)
	assert.Equal(t, before, data, "Sign must not change its argument")

	m, err := Verify(payload)
	require.NoError(t, err)
	assert.Equal(t, "message", m.Type)
	assert.Equal(t, "node-a", m.ID)
	assert.Equal(t, now, m.Timestamp)
	assert.True(t, m.PublicKey.Equal(testKeys[0].PublicKey()))
	assert.Len(t, m.MessageID, 128)
	assert.Equal(t, json.Number("7"), m.Fields[FieldSent])
	assert.Equal(t, json.Number("3"), m.Fields[FieldReceived])
	msg := m.Fields["message"].(map[string]any)
	assert.Equal(t, "héllo 😀\n", msg["text"])
	assert.Equal(t, json.Number("1.0"), msg["one"])
	assert.Equal(t, json.Number("1180591620717411303424"), msg["big"])
	v, ok := m.Get(FieldPublicKey)
	assert.True(t, ok)
	assert.Equal(t, testKeys[0].PublicKeyPEM(), v)

	// The hashes are those of the reference's steps.
	rest := maps.Clone(m.Fields)
	delete(rest, FieldSignature)
	delete(rest, FieldPublicKey)
	delete(rest, FieldHash)
	h, err := Hash(rest)
	require.NoError(t, err)
	assert.Equal(t, m.Fields[FieldHash], h)
	delete(rest, FieldMessageID)
	h, err = Hash(rest)
	require.NoError(t, err)
	assert.Equal(t, m.MessageID, h)
}

func TestSign4096(t *testing.T) {
	key, err := GenerateKey(0)
	require.NoError(t, err)
	assert.Equal(t, 4096, key.PublicKey().N.BitLen())
	payload, err := Sign(key, "n", map[string]any{"_type": "ping"}, 0, 0, 1)
	require.NoError(t, err)
	m, err := Verify(payload)
	require.NoError(t, err)
	assert.Equal(t, 4096, m.PublicKey.N.BitLen())
}

// tamperings change one field of a signed message each; every one must be
// rejected, here and by the Python peer.
func tamperings() map[string]func(m map[string]any) {
	other := testKeys[3].PublicKeyPEM()
	return map[string]func(m map[string]any){
		"content":            func(m map[string]any) { m["message"] = "changed" },
		"added field":        func(m map[string]any) { m["extra"] = 1 },
		"removed content":    func(m map[string]any) { delete(m, "message") },
		"type":               func(m map[string]any) { m["_type"] = "ping" },
		"_id":                func(m map[string]any) { m["_id"] = "someone-else" },
		"_timestamp":         func(m map[string]any) { m["_timestamp"] = json.Number("1718000001.5") },
		"_mcs":               func(m map[string]any) { m["_mcs"] = json.Number("8") },
		"_mcr":               func(m map[string]any) { m["_mcr"] = json.Number("99") },
		"_message_id":        func(m map[string]any) { m["_message_id"] = otherHex(m["_message_id"].(string)) },
		"_hash":              func(m map[string]any) { m["_hash"] = otherHex(m["_hash"].(string)) },
		"_signature":         func(m map[string]any) { m["_signature"] = "AAAA" + m["_signature"].(string)[4:] },
		"_public_key":        func(m map[string]any) { m["_public_key"] = other },
		"number form":        func(m map[string]any) { m["message"].(map[string]any)["one"] = json.Number("1") },
		"missing _signature": func(m map[string]any) { delete(m, "_signature") },
		"missing _hash":      func(m map[string]any) { delete(m, "_hash") },
	}
}

func TestVerifyRejectsTampering(t *testing.T) {
	payload, err := Sign(testKeys[0], "node-a", sampleData(), 7, 3, 1718000000.5)
	require.NoError(t, err)
	for name, b := range tampered(t, payload) {
		_, err = Verify(b)
		assert.Error(t, err, name)
	}
}

// otherHex returns hex digest h with its first digit changed, so it never
// equals h (a fixed prefix would, whenever h already starts with it).
func otherHex(h string) string {
	if h == "" || h[0] != '0' {
		return "0" + h[1:]
	}
	return "1" + h[1:]
}

// resign signs fields as they are, so that checks after the signature can
// be reached.
func resign(t *testing.T, key *Key, fields map[string]any) []byte {
	t.Helper()
	rest := maps.Clone(fields)
	delete(rest, FieldSignature)
	delete(rest, FieldPublicKey)
	c, err := Canonical(rest)
	require.NoError(t, err)
	d := sha512.Sum512(c)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key.PrivateKey(), crypto.SHA512, d[:])
	require.NoError(t, err)
	fields[FieldSignature] = base64.StdEncoding.EncodeToString(sig)
	fields[FieldPublicKey] = key.PublicKeyPEM()
	b, err := Canonical(fields)
	require.NoError(t, err)
	return b
}

func TestVerifyReasons(t *testing.T) {
	payload, err := Sign(testKeys[0], "node-a", sampleData(), 0, 0, 1718000000.5)
	require.NoError(t, err)
	fields := func() map[string]any {
		v, err := Parse(payload)
		require.NoError(t, err)
		return v.(map[string]any)
	}

	m := fields()
	m["_hash"] = otherHex(m["_hash"].(string))
	_, err = Verify(resign(t, testKeys[0], m))
	assert.ErrorIs(t, err, ErrBadHash)

	m = fields()
	m["_message_id"] = otherHex(m["_message_id"].(string))
	_, err = Verify(resign(t, testKeys[0], m))
	assert.ErrorIs(t, err, ErrBadHash, "_message_id is under _hash")

	m = fields()
	m["message"] = "changed"
	_, err = Verify(resign(t, testKeys[0], m))
	assert.ErrorIs(t, err, ErrBadHash)

	m = fields()
	m["_public_key"] = testKeys[1].PublicKeyPEM()
	b, _ := Canonical(m)
	_, err = Verify(b)
	assert.ErrorIs(t, err, ErrBadSignature)

	// _message_id alone wrong, with _hash made to match.
	m = fields()
	m["_message_id"] = otherHex(m["_message_id"].(string))
	rest := maps.Clone(m)
	for _, f := range []string{FieldHash, FieldSignature, FieldPublicKey} {
		delete(rest, f)
	}
	m["_hash"], err = Hash(rest)
	require.NoError(t, err)
	_, err = Verify(resign(t, testKeys[0], m))
	assert.ErrorIs(t, err, ErrBadMessageID)

	for name, text := range map[string]string{
		"not json":           `hello`,
		"array":              `[1, 2]`,
		"string":             `"x"`,
		"empty object":       `{}`,
		"signature a number": `{"_signature": 1, "_public_key": "k", "_hash": "h", "_message_id": "m", "_id": "i", "_timestamp": 1}`,
		"no timestamp":       `{"_signature": "s", "_public_key": "k", "_hash": "h", "_message_id": "m", "_id": "i"}`,
		"NaN timestamp":      `{"_signature": "s", "_public_key": "k", "_hash": "h", "_message_id": "m", "_id": "i", "_timestamp": NaN}`,
		"id not a string":    `{"_signature": "s", "_public_key": "k", "_hash": "h", "_message_id": "m", "_id": 5, "_timestamp": 1}`,
		"bad public key":     `{"_signature": "s", "_public_key": "k", "_hash": "h", "_message_id": "m", "_id": "i", "_timestamp": 1}`,
	} {
		_, err := Verify([]byte(text))
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
}

func newTestNode(t *testing.T, key *Key, cfg Config) *Node {
	t.Helper()
	cfg.Host = "127.0.0.1"
	n, err := New(cfg, key, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Stop() })
	return n
}

func TestCheckPolicy(t *testing.T) {
	now := time.Unix(1718000000, 0)
	clock := func() time.Time { return now }
	ts := float64(now.Unix())
	seq := 0
	sign := func(key *Key, id string, ts float64) []byte {
		seq++ // a new _message_id each time
		b, err := Sign(key, id, map[string]any{"_type": "message", "message": seq}, 0, 0, ts)
		require.NoError(t, err)
		return b
	}

	t.Run("trust on first use", func(t *testing.T) {
		n := newTestNode(t, testKeys[0], Config{Now: clock})
		_, err := n.Check(sign(testKeys[1], "b", ts))
		require.NoError(t, err)
		pinned, ok := n.PinnedKey("b")
		require.True(t, ok)
		assert.True(t, pinned.Equal(testKeys[1].PublicKey()))
		_, err = n.Check(sign(testKeys[2], "b", ts))
		assert.ErrorIs(t, err, ErrKeyMismatch)
		_, err = n.Check(sign(testKeys[1], "b", ts))
		assert.NoError(t, err)
		// Nobody signs as this node.
		_, err = n.Check(sign(testKeys[1], n.ID(), ts))
		assert.ErrorIs(t, err, ErrKeyMismatch)
		n.Unpin("b")
		_, err = n.Check(sign(testKeys[2], "b", ts))
		assert.NoError(t, err)
	})

	t.Run("a rejected message pins nothing", func(t *testing.T) {
		n := newTestNode(t, testKeys[0], Config{Now: clock})
		_, err := n.Check(sign(testKeys[1], "c", ts-3600))
		assert.ErrorIs(t, err, ErrStale)
		_, ok := n.PinnedKey("c")
		assert.False(t, ok)
	})

	t.Run("trusted keys only", func(t *testing.T) {
		n := newTestNode(t, testKeys[0], Config{Now: clock, KeyPolicy: TrustedKeysOnly,
			TrustedKeys: map[string]*rsa.PublicKey{"b": testKeys[1].PublicKey()}})
		_, err := n.Check(sign(testKeys[1], "b", ts))
		assert.NoError(t, err)
		_, err = n.Check(sign(testKeys[2], "b", ts))
		assert.ErrorIs(t, err, ErrKeyMismatch)
		_, err = n.Check(sign(testKeys[2], "c", ts))
		assert.ErrorIs(t, err, ErrUntrustedKey)
		n.Pin("c", testKeys[2].PublicKey())
		_, err = n.Check(sign(testKeys[2], "c", ts))
		assert.NoError(t, err)
	})

	t.Run("no pinning", func(t *testing.T) {
		n := newTestNode(t, testKeys[0], Config{Now: clock, KeyPolicy: NoPinning})
		_, err := n.Check(sign(testKeys[1], "b", ts))
		assert.NoError(t, err)
		_, err = n.Check(sign(testKeys[2], "b", ts))
		assert.NoError(t, err)
	})

	t.Run("pin store bound", func(t *testing.T) {
		n := newTestNode(t, testKeys[0], Config{Now: clock, MaxPinnedKeys: 2})
		_, err := n.Check(sign(testKeys[1], "b", ts))
		assert.NoError(t, err)
		_, err = n.Check(sign(testKeys[2], "c", ts))
		assert.ErrorIs(t, err, ErrUntrustedKey)
	})

	t.Run("replay and window", func(t *testing.T) {
		n := newTestNode(t, testKeys[0], Config{Now: clock})
		p := sign(testKeys[1], "b", ts)
		_, err := n.Check(p)
		require.NoError(t, err)
		_, err = n.Check(p)
		assert.ErrorIs(t, err, ErrReplay)
		_, err = n.Check(sign(testKeys[1], "b", ts-DefaultReplayWindow.Seconds()-1))
		assert.ErrorIs(t, err, ErrStale)
		_, err = n.Check(sign(testKeys[1], "b", ts-DefaultReplayWindow.Seconds()+1))
		assert.NoError(t, err)
		_, err = n.Check(sign(testKeys[1], "b", ts+DefaultMaxClockSkew.Seconds()+1))
		assert.ErrorIs(t, err, ErrFuture)
		_, err = n.Check(sign(testKeys[1], "b", ts+DefaultMaxClockSkew.Seconds()-1))
		assert.NoError(t, err)
	})

	t.Run("replay remembered for the whole window", func(t *testing.T) {
		cur := now
		n := newTestNode(t, testKeys[0], Config{Now: func() time.Time { return cur },
			ReplayWindow: time.Minute, MaxClockSkew: time.Second})
		p := sign(testKeys[1], "b", ts)
		_, err := n.Check(p)
		require.NoError(t, err)
		for _, step := range []time.Duration{10 * time.Second, 30 * time.Second, 55 * time.Second, 60 * time.Second} {
			cur = now.Add(step)
			_, err = n.Check(p)
			assert.ErrorIs(t, err, ErrReplay, "after %v", step)
		}
		cur = now.Add(2 * time.Minute)
		_, err = n.Check(p)
		assert.ErrorIs(t, err, ErrStale)
	})

	t.Run("checks off", func(t *testing.T) {
		n := newTestNode(t, testKeys[0], Config{Now: clock, ReplayWindow: -1})
		p := sign(testKeys[1], "b", 1)
		_, err := n.Check(p)
		assert.NoError(t, err)
		_, err = n.Check(p)
		assert.NoError(t, err)
	})

	t.Run("weak key", func(t *testing.T) {
		n := newTestNode(t, testKeys[0], Config{Now: clock, MinKeyBits: 4096})
		_, err := n.Check(sign(testKeys[1], "b", ts))
		assert.ErrorIs(t, err, ErrWeakKey)
	})
}

// tampered applies each of tamperings to a copy of the signed payload and
// returns the results, re-serialised, by name.
func tampered(t *testing.T, payload []byte) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte)
	for name, tamper := range tamperings() {
		v, err := Parse(payload)
		require.NoError(t, err)
		m := v.(map[string]any)
		tamper(m)
		b, err := Canonical(m)
		require.NoError(t, err)
		out[name] = b
	}
	return out
}
