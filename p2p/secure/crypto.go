package secure

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// The helpers of the reference's SecureNode beyond signing messages: RSA
// encryption to a public key, signatures over text, and AES-256-CBC with
// keys from passwords, in the reference's formats (see the package
// documentation, "Helpers"), so that what one side encrypts or signs the
// other decrypts or verifies.

// AES parameters of the reference's helpers.
const (
	// SaltSize is the size of the salt before a password-encrypted text.
	SaltSize = 16
	// PasswordKeySize is the AES key size derived from a password (AES-256).
	PasswordKeySize = 32
	// maxDerivedKey bounds what DeriveKey makes (PBKDF2 itself allows far
	// more, at a cost linear in the size).
	maxDerivedKey = 1 << 16
)

// ErrDecrypt is returned when a ciphertext does not decrypt: bad base64, a
// wrong length, or (RSA) bad padding, which is what a wrong key gives.
var ErrDecrypt = errors.New("secure: cannot decrypt")

// ErrBadAESKey is returned for an AES key that is not 16, 24 or 32 bytes.
var ErrBadAESKey = errors.New("secure: an AES key has 16, 24 or 32 bytes")

// Encrypt encrypts plaintext to pub with RSAES-PKCS1-v1_5 and returns it
// base64-encoded (standard alphabet, padded), as the reference's encrypt.
// plaintext may be at most the key's size in bytes minus 11. PKCS#1 v1.5
// encryption is weak (padding-oracle attacks on the decrypting side); it is
// here because p2psecure uses it.
func Encrypt(pub *rsa.PublicKey, plaintext []byte) ([]byte, error) {
	if pub == nil {
		return nil, errors.New("secure: encrypt: nil public key")
	}
	//lint:ignore SA1019 the reference's format is PKCS#1 v1.5
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, pub, plaintext) //nolint:staticcheck // the reference's format
	if err != nil {
		return nil, fmt.Errorf("secure: encrypt: %w", err)
	}
	out := make([]byte, base64.StdEncoding.EncodedLen(len(ct)))
	base64.StdEncoding.Encode(out, ct)
	return out, nil
}

// EncryptPEM is Encrypt to a public key given as PEM: "PUBLIC KEY",
// "RSA PUBLIC KEY", or a private key's PEM (its public half), as
// PyCryptodome's importKey takes them.
func EncryptPEM(pemText string, plaintext []byte) ([]byte, error) {
	pub, err := ParsePublicKey(pemText)
	if err != nil {
		k, perr := parsePEM([]byte(pemText), "")
		if perr != nil {
			return nil, fmt.Errorf("secure: encrypt: not an RSA public key: %w", err)
		}
		pub = k.PublicKey()
	}
	return Encrypt(pub, plaintext)
}

// Decrypt reverses Encrypt with the node's private key: ciphertext is the
// base64 text (ASCII white space ignored). It returns ErrDecrypt for
// anything that does not decrypt (bad base64, wrong length, bad padding).
func (k *Key) Decrypt(ciphertext []byte) ([]byte, error) {
	ct, err := decodeBase64(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	//lint:ignore SA1019 the reference's format is PKCS#1 v1.5
	plain, err := rsa.DecryptPKCS1v15(nil, k.priv, ct) //nolint:staticcheck // the reference's format
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

func decodeBase64(text []byte) ([]byte, error) {
	clean := bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, text)
	out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(out, clean)
	if err != nil {
		return nil, errors.New("not base64")
	}
	return out[:n], nil
}

// SignText signs message (the reference signs the UTF-8 of a str) with
// RSASSA-PKCS1-v1_5 over SHA-512 and returns the base64 signature, as the
// reference's sign. A message's _signature is SignText of its canonical
// form (see Canonical and SignData).
func (k *Key) SignText(message []byte) (string, error) {
	digest := sha512.Sum512(message)
	sig, err := rsa.SignPKCS1v15(nil, k.priv, crypto.SHA512, digest[:])
	if err != nil {
		return "", fmt.Errorf("secure: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// SignData signs Canonical(data), as the reference's sign_data.
func (k *Key) SignData(data any) (string, error) {
	c, err := Canonical(data)
	if err != nil {
		return "", err
	}
	return k.SignText(c)
}

// VerifyText reports whether signature (base64) is pub's RSASSA-PKCS1-v1_5
// SHA-512 signature of message, as the reference's verify.
func VerifyText(pub *rsa.PublicKey, message []byte, signature string) bool {
	if pub == nil {
		return false
	}
	sig, err := decodeBase64([]byte(signature))
	if err != nil {
		return false
	}
	digest := sha512.Sum512(message)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA512, digest[:], sig) == nil
}

// VerifyData is VerifyText of Canonical(data), as the reference's
// verify_data; data that has no canonical form does not verify.
func VerifyData(pub *rsa.PublicKey, data any, signature string) bool {
	c, err := Canonical(data)
	if err != nil {
		return false
	}
	return VerifyText(pub, c, signature)
}

// PrivateKeyPEM is the private key as the reference's get_private_key
// returns it (PyCryptodome's export_key("PEM")): PKCS#1 "RSA PRIVATE KEY",
// without a newline after the last line. It is the secret key in clear.
func (k *Key) PrivateKeyPEM() string {
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.priv)}
	return strings.TrimSuffix(string(pem.EncodeToMemory(block)), "\n")
}

// DeriveKey makes an encryption key of size bytes from a password and a
// salt as the reference's encryption_key_from_password: PBKDF2 with
// PyCryptodome's defaults (HMAC-SHA1, 1000 iterations). The reference's
// passwords are bytes, or a str taken as Latin-1.
func DeriveKey(password, salt []byte, size int) ([]byte, error) {
	if size < 1 || size > maxDerivedKey {
		return nil, fmt.Errorf("secure: derive key: size %d out of range [1, %d]", size, maxDerivedKey)
	}
	key, err := pbkdf2.Key(sha1.New, string(password), salt, refIterations, size)
	if err != nil {
		return nil, fmt.Errorf("secure: derive key: %w", err)
	}
	return key, nil
}

// PadZero appends 1 to 16 zero bytes to b, up to the next multiple of the
// AES block size (a multiple gets a whole block), as the reference's
// encrypt_aes_pad. It returns a new slice.
func PadZero(b []byte) []byte {
	out := make([]byte, len(b), len(b)+aes.BlockSize)
	copy(out, b)
	return append(out, make([]byte, aes.BlockSize-len(b)%aes.BlockSize)...)
}

// EncryptAES encrypts plaintext with AES-CBC under key (16, 24 or 32
// bytes) as the reference's encrypt_aes: a random iv (16 bytes), then the
// ciphertext of PadZero(plaintext). There is no integrity check, and
// DecryptAES strips every trailing zero byte, so a plaintext that ends in
// zero bytes does not come back whole: both as the reference.
func EncryptAES(key, plaintext []byte) ([]byte, error) {
	return encryptAES(key, PadZero(plaintext), nil)
}

// encryptAES appends the iv and the CBC ciphertext of padded (a multiple
// of the block size) to prefix.
func encryptAES(key, padded, prefix []byte) ([]byte, error) {
	block, err := aesBlock(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(prefix)+aes.BlockSize+len(padded))
	copy(out, prefix)
	iv := out[len(prefix) : len(prefix)+aes.BlockSize]
	if _, err := rand.Read(iv); err != nil {
		return nil, fmt.Errorf("secure: encrypt: %w", err)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out[len(prefix)+aes.BlockSize:], padded)
	return out, nil
}

// DecryptAES reverses EncryptAES: data is iv + ciphertext, whose length
// after the iv must be a multiple of 16 (ErrDecrypt otherwise). Trailing
// zero bytes are stripped. A wrong key is not detected: it gives garbage.
func DecryptAES(key, data []byte) ([]byte, error) {
	block, err := aesBlock(key)
	if err != nil {
		return nil, err
	}
	if len(data) < aes.BlockSize || (len(data)-aes.BlockSize)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: %d bytes are not an iv and whole AES blocks", ErrDecrypt, len(data))
	}
	plain := make([]byte, len(data)-aes.BlockSize)
	cipher.NewCBCDecrypter(block, data[:aes.BlockSize]).CryptBlocks(plain, data[aes.BlockSize:])
	return bytes.TrimRight(plain, "\x00"), nil
}

func aesBlock(key []byte) (cipher.Block, error) {
	switch len(key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("%w, not %d", ErrBadAESKey, len(key))
	}
	return aes.NewCipher(key)
}

// EncryptAESPassword encrypts plaintext under a password as the
// reference's encrypt_aes_pw: a random salt (16 bytes), then EncryptAES
// with the key DeriveKey(password, salt, 32) of the zero-padded plaintext
// (padded twice, as the reference does: the ciphertext ends with a block
// of zeros), so salt + iv + ciphertext.
func EncryptAESPassword(password, plaintext []byte) ([]byte, error) {
	salt := make([]byte, SaltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("secure: encrypt: %w", err)
	}
	key, err := DeriveKey(password, salt, PasswordKeySize)
	if err != nil {
		return nil, err
	}
	return encryptAES(key, PadZero(PadZero(plaintext)), salt)
}

// DecryptAESPassword reverses EncryptAESPassword (and reads the
// reference's key files' outer layer): salt + iv + ciphertext.
func DecryptAESPassword(password, data []byte) ([]byte, error) {
	if len(data) < SaltSize {
		return nil, fmt.Errorf("%w: %d bytes hold no salt", ErrDecrypt, len(data))
	}
	key, err := DeriveKey(password, data[:SaltSize], PasswordKeySize)
	if err != nil {
		return nil, err
	}
	return DecryptAES(key, data[SaltSize:])
}

// EncryptAESFile writes EncryptAES(key, plaintext) to path, as the
// reference's encrypt_aes_file; the file is replaced atomically and has
// mode 0600 (the reference's has the umask's).
func EncryptAESFile(path string, key, plaintext []byte) error {
	data, err := EncryptAES(key, plaintext)
	if err != nil {
		return err
	}
	return writeSecret(path, data)
}

// DecryptAESFile reads path and returns DecryptAES(key, its contents), as
// the reference's decrypt_aes_file.
func DecryptAESFile(path string, key []byte) ([]byte, error) {
	data, err := readSecret(path)
	if err != nil {
		return nil, err
	}
	return DecryptAES(key, data)
}

// EncryptAESFilePassword writes EncryptAESPassword(password, plaintext) to
// path as EncryptAESFile does, as the reference's encrypt_aes_file_pw.
func EncryptAESFilePassword(path string, password, plaintext []byte) error {
	data, err := EncryptAESPassword(password, plaintext)
	if err != nil {
		return err
	}
	return writeSecret(path, data)
}

// DecryptAESFilePassword reads path and returns DecryptAESPassword of its
// contents, as the reference's decrypt_aes_file_pw.
func DecryptAESFilePassword(path string, password []byte) ([]byte, error) {
	data, err := readSecret(path)
	if err != nil {
		return nil, err
	}
	return DecryptAESPassword(password, data)
}

// MaxHelperSize bounds the data one helper takes, and the file a decrypting
// helper reads: the helpers work in memory, as the reference's do, and a
// bound keeps one call from exhausting it.
const MaxHelperSize = 1 << 30

// ErrTooBig is wrapped by the error of a helper given more than
// MaxHelperSize bytes.
var ErrTooBig = errors.New("secure: more data than a helper takes")

// readSecret reads a file of at most MaxHelperSize bytes.
func readSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("secure: decrypt file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxHelperSize+1))
	if err != nil {
		return nil, fmt.Errorf("secure: decrypt file: %w", err)
	}
	if len(data) > MaxHelperSize {
		return nil, fmt.Errorf("%w: %s holds more than %d bytes", ErrTooBig, path, MaxHelperSize)
	}
	return data, nil
}

func writeSecret(path string, data []byte) error {
	if err := writeKeyFile(path, data); err != nil {
		return fmt.Errorf("secure: encrypt file: %w", err)
	}
	return nil
}
