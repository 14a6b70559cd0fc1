package secure

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// plaintexts for the AES helpers: empty, shorter, exactly and longer than a
// block, binary. None ends in a zero byte, which the format strips.
func plaintexts() [][]byte {
	return [][]byte{{}, []byte("Hoi daar!"), []byte("0123456789abcdef"), bytes.Repeat([]byte("héllo \x00\xff"), 50), {0xff, 0, 1}}
}

func TestRSAEncryptDecrypt(t *testing.T) {
	k := testKeys[0]
	for _, p := range [][]byte{{}, []byte("secret"), bytes.Repeat([]byte{0xab}, 256-11)} {
		ct, err := Encrypt(k.PublicKey(), p)
		require.NoError(t, err)
		_, err = base64.StdEncoding.DecodeString(string(ct))
		require.NoError(t, err, "base64")
		got, err := k.Decrypt(ct)
		require.NoError(t, err)
		assert.Equal(t, p, append([]byte{}, got...))
		ct2, err := EncryptPEM(k.PublicKeyPEM(), p)
		require.NoError(t, err)
		assert.NotEqual(t, ct, ct2, "randomised")
		// Line breaks in the base64 do not matter.
		got, err = k.Decrypt([]byte(string(ct2[:10]) + "\n" + string(ct2[10:])))
		require.NoError(t, err)
		assert.Equal(t, p, append([]byte{}, got...))
	}
	_, err := Encrypt(k.PublicKey(), make([]byte, 256-10))
	assert.Error(t, err, "too long")
	_, err = EncryptPEM("not a key", []byte("x"))
	assert.Error(t, err)
	// A private key's PEM encrypts to its public half.
	ct, err := EncryptPEM(k.PrivateKeyPEM(), []byte("x"))
	require.NoError(t, err)
	got, err := k.Decrypt(ct)
	require.NoError(t, err)
	assert.Equal(t, "x", string(got))

	ct, err = Encrypt(testKeys[1].PublicKey(), []byte("for someone else"))
	require.NoError(t, err)
	for name, bad := range map[string][]byte{"wrong key": ct, "not base64": []byte("@@@"), "empty": nil, "short": []byte("AAAA")} {
		_, err := k.Decrypt(bad)
		assert.ErrorIs(t, err, ErrDecrypt, name)
	}
	_, err = Encrypt(nil, []byte("x"))
	assert.Error(t, err)
}

func TestSignVerifyText(t *testing.T) {
	k := testKeys[0]
	msg := []byte(`{"a": 1, "é": "\u00e9"}`)
	sig, err := k.SignText(msg)
	require.NoError(t, err)
	assert.True(t, VerifyText(k.PublicKey(), msg, sig))
	again, err := k.SignText(msg)
	require.NoError(t, err)
	assert.Equal(t, sig, again, "PKCS#1 v1.5 signatures are deterministic")
	assert.False(t, VerifyText(k.PublicKey(), append(msg, ' '), sig))
	assert.False(t, VerifyText(testKeys[1].PublicKey(), msg, sig))
	assert.False(t, VerifyText(k.PublicKey(), msg, "not base64!"))
	assert.False(t, VerifyText(k.PublicKey(), msg, ""))
	assert.False(t, VerifyText(nil, msg, sig))

	data := map[string]any{"b": []any{1.0, "x"}, "a": nil}
	sig, err = k.SignData(data)
	require.NoError(t, err)
	c, err := Canonical(data)
	require.NoError(t, err)
	assert.Equal(t, `{"a": null, "b": [1.0, "x"]}`, string(c))
	assert.True(t, VerifyText(k.PublicKey(), c, sig))
	assert.True(t, VerifyData(k.PublicKey(), data, sig))
	assert.False(t, VerifyData(k.PublicKey(), map[string]any{"a": nil}, sig))
	assert.False(t, VerifyData(k.PublicKey(), make(chan int), sig), "no canonical form")
	_, err = k.SignData(make(chan int))
	assert.Error(t, err)
}

func TestPrivateKeyPEM(t *testing.T) {
	p := testKeys[0].PrivateKeyPEM()
	assert.True(t, strings.HasPrefix(p, "-----BEGIN RSA PRIVATE KEY-----\n"))
	assert.True(t, strings.HasSuffix(p, "\n-----END RSA PRIVATE KEY-----"))
	k, err := ParseKey([]byte(p), "")
	require.NoError(t, err)
	assert.True(t, k.PrivateKey().Equal(testKeys[0].PrivateKey()))
}

func TestDeriveKey(t *testing.T) {
	// RFC 6070's first PBKDF2-HMAC-SHA1 vector has 1 iteration; this is
	// the one with PyCryptodome's default 1000 rounds ("password", "salt"),
	// cross-checked against PyCryptodome in TestHelpersAgainstPython.
	a, err := DeriveKey([]byte("password"), []byte("salt"), 32)
	require.NoError(t, err)
	assert.Len(t, a, 32)
	b, err := DeriveKey([]byte("password"), []byte("salt"), 16)
	require.NoError(t, err)
	assert.Equal(t, a[:16], b, "a shorter key is a prefix")
	c, err := DeriveKey([]byte("password"), []byte("pepper"), 32)
	require.NoError(t, err)
	assert.NotEqual(t, a, c)
	_, err = DeriveKey([]byte("pw"), nil, 0)
	assert.Error(t, err)
	_, err = DeriveKey([]byte("pw"), nil, maxDerivedKey+1)
	assert.Error(t, err)
}

func TestAES(t *testing.T) {
	assert.Equal(t, make([]byte, 16), PadZero(nil))
	assert.Equal(t, append([]byte("abc"), make([]byte, 13)...), PadZero([]byte("abc")))
	assert.Len(t, PadZero(make([]byte, 16)), 32, "a whole block gets another")

	for _, size := range []int{16, 24, 32} {
		key := bytes.Repeat([]byte{byte(size)}, size)
		for _, p := range plaintexts() {
			ct, err := EncryptAES(key, p)
			require.NoError(t, err)
			assert.Len(t, ct, 16+len(PadZero(p)))
			got, err := DecryptAES(key, ct)
			require.NoError(t, err)
			assert.Equal(t, string(p), string(got))
		}
	}
	key := bytes.Repeat([]byte{1}, 32)
	// Trailing zeros are stripped, as the reference does.
	ct, err := EncryptAES(key, []byte("ab\x00\x00"))
	require.NoError(t, err)
	got, err := DecryptAES(key, ct)
	require.NoError(t, err)
	assert.Equal(t, "ab", string(got))

	for _, bad := range [][]byte{nil, make([]byte, 15), make([]byte, 33)} {
		_, err := DecryptAES(key, bad)
		assert.ErrorIs(t, err, ErrDecrypt)
	}
	got, err = DecryptAES(key, make([]byte, 16))
	require.NoError(t, err, "an iv alone is an empty text")
	assert.Empty(t, got)
	_, err = EncryptAES(make([]byte, 31), nil)
	assert.ErrorIs(t, err, ErrBadAESKey)
	_, err = DecryptAES(nil, make([]byte, 32))
	assert.ErrorIs(t, err, ErrBadAESKey)
}

func TestAESPassword(t *testing.T) {
	pw := []byte("this is the passwd")
	for _, p := range plaintexts() {
		ct, err := EncryptAESPassword(pw, p)
		require.NoError(t, err)
		assert.Len(t, ct, 16+16+len(PadZero(p))+16, "padded twice, as the reference")
		got, err := DecryptAESPassword(pw, ct)
		require.NoError(t, err)
		assert.Equal(t, string(p), string(got))
		other, err := DecryptAESPassword([]byte("wrong"), ct)
		require.NoError(t, err, "CBC has no integrity: a wrong password gives garbage")
		assert.NotEqual(t, string(p), string(other))
	}
	_, err := DecryptAESPassword(pw, make([]byte, 15))
	assert.ErrorIs(t, err, ErrDecrypt)
	_, err = DecryptAESPassword(pw, make([]byte, 16))
	assert.ErrorIs(t, err, ErrDecrypt, "a salt without an iv")
}

func TestAESFiles(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{7}, 32)
	path := filepath.Join(dir, "plain.enc")
	require.NoError(t, EncryptAESFile(path, key, []byte("Hallo Maurice")))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	got, err := DecryptAESFile(path, key)
	require.NoError(t, err)
	assert.Equal(t, "Hallo Maurice", string(got))

	pwPath := filepath.Join(dir, "pw.enc")
	require.NoError(t, EncryptAESFilePassword(pwPath, []byte("password123"), []byte("Hallo Maurice Snoeren")))
	got, err = DecryptAESFilePassword(pwPath, []byte("password123"))
	require.NoError(t, err)
	assert.Equal(t, "Hallo Maurice Snoeren", string(got))
	// Overwriting replaces the file.
	require.NoError(t, EncryptAESFilePassword(pwPath, []byte("password123"), []byte("new")))
	got, err = DecryptAESFilePassword(pwPath, []byte("password123"))
	require.NoError(t, err)
	assert.Equal(t, "new", string(got))

	_, err = DecryptAESFile(filepath.Join(dir, "missing"), key)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = DecryptAESFilePassword(filepath.Join(dir, "missing"), nil)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Error(t, EncryptAESFile(filepath.Join(dir, "no", "dir"), key, nil))
	assert.ErrorIs(t, EncryptAESFile(path, key[:5], nil), ErrBadAESKey)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func unb64(t *testing.T, v any) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(v.(string))
	require.NoError(t, err)
	return b
}

// TestHelpersAgainstPython: every helper against PyCryptodome (the test
// peer implements the documented formats), both ways.
func TestHelpersAgainstPython(t *testing.T) {
	py := startPyBatch(t)
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "py.key")
	saveReferenceFast(t, testKeys[1], keyPath, "pw")
	ours, theirs := testKeys[0], testKeys[1]

	t.Run("rsa", func(t *testing.T) {
		for _, p := range [][]byte{{}, []byte("geheim"), bytes.Repeat([]byte{0, 0xff}, 100)} {
			ct, err := Encrypt(theirs.PublicKey(), p)
			require.NoError(t, err)
			ans := py.call(t, map[string]any{"op": "rsa_decrypt", "key": keyPath, "password": "pw", "ciphertext": string(ct)})
			assert.Equal(t, string(p), string(unb64(t, ans["plain_b64"])))

			ans = py.call(t, map[string]any{"op": "rsa_encrypt", "public_key": ours.PublicKeyPEM(), "plain_b64": b64(p)})
			got, err := ours.Decrypt([]byte(ans["ciphertext"].(string)))
			require.NoError(t, err)
			assert.Equal(t, string(p), string(got))
		}
		ans := py.call(t, map[string]any{"op": "private_pem", "key": keyPath, "password": "pw"})
		assert.Equal(t, ans["pem"], theirs.PrivateKeyPEM(), "get_private_key byte for byte")
	})
	t.Run("sign", func(t *testing.T) {
		for _, m := range []string{"", "hello", `{"a": 1.0, "z": "\u00e9"}`, "héllo 😀"} {
			sig, err := theirs.SignText([]byte(m))
			require.NoError(t, err)
			ans := py.call(t, map[string]any{"op": "sign", "key": keyPath, "password": "pw", "message": m})
			assert.Equal(t, ans["signature"], sig, "the same signature, byte for byte")
			ans = py.call(t, map[string]any{"op": "verify", "public_key": theirs.PublicKeyPEM(), "message": m, "signature": sig})
			assert.Equal(t, true, ans["ok"])
			ans = py.call(t, map[string]any{"op": "verify", "public_key": theirs.PublicKeyPEM(), "message": m + "x", "signature": sig})
			assert.Equal(t, false, ans["ok"])
			assert.True(t, VerifyText(theirs.PublicKey(), []byte(m), sig))
		}
	})
	t.Run("pbkdf2", func(t *testing.T) {
		for _, c := range []struct {
			pw, salt []byte
			size     int
		}{{[]byte("password"), []byte("salt"), 32}, {[]byte("pässwörd"), bytes.Repeat([]byte{0}, 16), 16}, {nil, nil, 64}, {[]byte{0xff, 0}, []byte("x"), 1}} {
			got, err := DeriveKey(c.pw, c.salt, c.size)
			require.NoError(t, err)
			ans := py.call(t, map[string]any{"op": "pbkdf2", "password_b64": b64(c.pw), "salt_b64": b64(c.salt), "size": c.size})
			assert.Equal(t, unb64(t, ans["key_b64"]), got)
		}
	})
	t.Run("aes", func(t *testing.T) {
		key := bytes.Repeat([]byte{0x5a}, 32)
		pw := []byte("this is the passwd \xe9")
		for _, p := range plaintexts() {
			ct, err := EncryptAES(key, p)
			require.NoError(t, err)
			ans := py.call(t, map[string]any{"op": "aes_decrypt", "key_b64": b64(key), "data_b64": b64(ct)})
			assert.Equal(t, string(p), string(unb64(t, ans["plain_b64"])))
			ans = py.call(t, map[string]any{"op": "aes_encrypt", "key_b64": b64(key), "plain_b64": b64(p)})
			theirCT := unb64(t, ans["data_b64"])
			assert.Len(t, theirCT, len(ct), "the same length")
			got, err := DecryptAES(key, theirCT)
			require.NoError(t, err)
			assert.Equal(t, string(p), string(got))

			ct, err = EncryptAESPassword(pw, p)
			require.NoError(t, err)
			ans = py.call(t, map[string]any{"op": "aes_decrypt_pw", "password_b64": b64(pw), "data_b64": b64(ct)})
			assert.Equal(t, string(p), string(unb64(t, ans["plain_b64"])))
			ans = py.call(t, map[string]any{"op": "aes_encrypt_pw", "password_b64": b64(pw), "plain_b64": b64(p)})
			theirCT = unb64(t, ans["data_b64"])
			assert.Len(t, theirCT, len(ct), "the same length (padded twice)")
			got, err = DecryptAESPassword(pw, theirCT)
			require.NoError(t, err)
			assert.Equal(t, string(p), string(got))
		}
	})
	t.Run("files", func(t *testing.T) {
		key := bytes.Repeat([]byte{3}, 32)
		pw := []byte("password123")
		plain := []byte("Hallo Maurice Snoeren")
		for i, byPassword := range []bool{false, true} {
			oursPath := filepath.Join(dir, "ours"+string(rune('0'+i)))
			theirsPath := filepath.Join(dir, "theirs"+string(rune('0'+i)))
			req := map[string]any{"op": "aes_decrypt_file", "path": oursPath}
			write := map[string]any{"op": "aes_encrypt_file", "path": theirsPath, "plain_b64": b64(plain)}
			if byPassword {
				require.NoError(t, EncryptAESFilePassword(oursPath, pw, plain))
				req["password_b64"], write["password_b64"] = b64(pw), b64(pw)
			} else {
				require.NoError(t, EncryptAESFile(oursPath, key, plain))
				req["key_b64"], write["key_b64"] = b64(key), b64(key)
			}
			ans := py.call(t, req)
			assert.Equal(t, string(plain), string(unb64(t, ans["plain_b64"])))
			py.call(t, write)
			var got []byte
			var err error
			if byPassword {
				got, err = DecryptAESFilePassword(theirsPath, pw)
			} else {
				got, err = DecryptAESFile(theirsPath, key)
			}
			require.NoError(t, err)
			assert.Equal(t, string(plain), string(got))
		}
	})
}
