package native

import (
	"crypto/ed25519"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func key(t *testing.T) ed25519.PublicKey {
	t.Helper()
	k, err := GenerateIdentity()
	require.NoError(t, err)
	return k.Public().(ed25519.PublicKey)
}

func TestTrustPinsOnFirstUse(t *testing.T) {
	tr := NewTrust()
	a, b := key(t), key(t)
	require.NoError(t, tr.CheckPlain("x"))
	require.NoError(t, tr.Check("x", a))
	got, ok := tr.Pinned("x")
	require.True(t, ok)
	assert.True(t, a.Equal(got))
	require.NoError(t, tr.Check("x", a))
	assert.ErrorIs(t, tr.Check("x", b), ErrKeyMismatch)
	assert.ErrorIs(t, tr.CheckPlain("x"), ErrDowngrade)
	tr.Unpin("x")
	require.NoError(t, tr.Check("x", b))
	require.NoError(t, tr.Pin("y", a))
	assert.Len(t, tr.Pins(), 2)
	assert.Error(t, tr.Pin("z", ed25519.PublicKey{1}))
}

func TestTrustAllowList(t *testing.T) {
	tr := NewTrust()
	a, b, c := key(t), key(t), key(t)
	require.NoError(t, tr.Allow("", a))
	require.NoError(t, tr.Allow("bee", b))
	require.NoError(t, tr.Check("anyone", a))
	require.NoError(t, tr.Check("bee", b))
	assert.ErrorIs(t, tr.Check("other", b), ErrNotAllowed, "b is allowed as bee only")
	assert.ErrorIs(t, tr.Check("cee", c), ErrNotAllowed)
	assert.ErrorIs(t, tr.CheckPlain("plain"), ErrNotAllowed)
}

func TestHeaderLimits(t *testing.T) {
	h, err := ParseHeader(AppendHeader(nil, 10, TypeData, 3), 10)
	require.NoError(t, err)
	assert.Equal(t, 3, h.Codec())
	_, err = ParseHeader(AppendHeader(nil, 11, TypeData, 0), 10)
	assert.ErrorIs(t, err, ErrBadHeader)
	_, err = ParseHeader(AppendHeader(nil, 0, TypePing, 1), 10)
	assert.ErrorIs(t, err, ErrBadHeader, "control frames carry no flags")
	_, err = ParseHeader(AppendHeader(nil, 0, 9, 0), 10)
	assert.ErrorIs(t, err, ErrBadHeader)
	_, err = ParseHeader(AppendHeader(nil, 0, TypeData, 0x80), 10)
	assert.ErrorIs(t, err, ErrBadHeader)
}

func TestHelloIgnoresUnknownFields(t *testing.T) {
	h, err := DecodeHello([]byte(`{"id":"a","port":1,"version":2,"caps":["gossip"],"future":true}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"gossip"}, h.Caps)
	_, err = DecodeHello([]byte(`{"port":1,"version":1}`))
	assert.Error(t, err)
}
