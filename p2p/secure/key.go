package secure

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Key sizes.
const (
	// DefaultKeyBits is the size GenerateKey uses for 0, as the reference.
	DefaultKeyBits = 4096
	// MinKeyBits is the smallest RSA key GenerateKey makes and the default
	// smallest key a Node accepts in a message.
	MinKeyBits = 2048
	// maxKeyBits bounds the cost of verifying a signature.
	maxKeyBits = 16384
)

// Key file parameters.
const (
	// KeyFileIterations is the PBKDF2-HMAC-SHA256 iteration count of the
	// key files Save writes.
	KeyFileIterations = 600_000
	// refIterations is what the reference's PBKDF2 uses (PyCryptodome's
	// default count, HMAC-SHA1).
	refIterations = 1000
	// refPKCS8Iterations is PyCryptodome's count for the passphrase of the
	// PEM inside a reference key file.
	refPKCS8Iterations = 600_000
)

// keyFileMagic starts the key files Save writes.
const keyFileMagic = "P2PNKEY\x01"

// ErrWrongPassword is returned when a key file does not decrypt with the
// password given (or is not a key file).
var ErrWrongPassword = errors.New("secure: wrong password or not a key file")

// Key is a node's RSA key pair.
type Key struct {
	priv   *rsa.PrivateKey
	pubPEM string
}

// GenerateKey makes a new RSA key pair of bits bits (0 means
// DefaultKeyBits, 4096, as the reference; at least MinKeyBits).
func GenerateKey(bits int) (*Key, error) {
	if bits == 0 {
		bits = DefaultKeyBits
	}
	if bits < MinKeyBits || bits > maxKeyBits {
		return nil, fmt.Errorf("secure: key size %d out of range [%d, %d]", bits, MinKeyBits, maxKeyBits)
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("secure: generate key: %w", err)
	}
	return NewKey(priv)
}

// NewKey wraps an existing RSA private key.
func NewKey(priv *rsa.PrivateKey) (*Key, error) {
	if priv == nil {
		return nil, errors.New("secure: nil private key")
	}
	pub, err := PublicKeyPEM(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Key{priv: priv, pubPEM: pub}, nil
}

// PublicKeyPEM writes an RSA public key as it travels in _public_key: PEM
// SubjectPublicKeyInfo, without a newline after the last line (as
// PyCryptodome's export_key("PEM")).
func PublicKeyPEM(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("secure: encode public key: %w", err)
	}
	return strings.TrimSuffix(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "\n"), nil
}

// PrivateKey returns the RSA private key.
func (k *Key) PrivateKey() *rsa.PrivateKey { return k.priv }

// PublicKey returns the RSA public key.
func (k *Key) PublicKey() *rsa.PublicKey { return &k.priv.PublicKey }

// PublicKeyPEM is the public key as it travels in _public_key: PEM
// SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----").
func (k *Key) PublicKeyPEM() string { return k.pubPEM }

// LoadKey reads a private key file: one written by Save, one written by the
// reference's key_pair_save (salt + iv + AES-256-CBC of the zero-padded PEM,
// with the key PBKDF2-HMAC-SHA1(password, salt, 1000 iterations)), or a
// plain PEM file (PKCS#1, PKCS#8, or either encrypted with password).
func LoadKey(path, password string) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secure: load key: %w", err)
	}
	k, err := ParseKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("secure: load key %s: %w", path, err)
	}
	return k, nil
}

// ParseKey reads the contents of a key file; see LoadKey.
func ParseKey(data []byte, password string) (*Key, error) {
	switch {
	case bytes.HasPrefix(data, []byte(keyFileMagic)):
		return parseKeyFile(data, password)
	case bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("-----BEGIN")):
		return parsePEM(data, password)
	}
	return parseReference(data, password)
}

// Save writes the private key to path with mode 0600: without a password
// as a PEM PKCS#8 file; with one in the format described in the package
// documentation (PBKDF2-HMAC-SHA256, AES-256-GCM). The reference cannot
// read the latter; SaveReference writes its format.
func (k *Key) Save(path, password string) error {
	data, err := k.Marshal(password)
	if err != nil {
		return err
	}
	return writeKeyFile(path, data)
}

// Marshal returns what Save writes.
func (k *Key) Marshal(password string) ([]byte, error) {
	return k.marshal(password, KeyFileIterations)
}

func (k *Key) marshal(password string, iterations int) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("secure: encode key: %w", err)
	}
	if password == "" {
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	header := make([]byte, 0, len(keyFileMagic)+4+16+12)
	header = append(header, keyFileMagic...)
	header = binary.BigEndian.AppendUint32(header, uint32(iterations))
	salt, nonce := make([]byte, 16), make([]byte, 12)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	header = append(append(header, salt...), nonce...)
	aead, err := keyFileAEAD(password, salt, iterations)
	if err != nil {
		return nil, err
	}
	return aead.Seal(header, nonce, der, header), nil
}

func keyFileAEAD(password string, salt []byte, iterations int) (cipher.AEAD, error) {
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		return nil, fmt.Errorf("secure: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func parseKeyFile(data []byte, password string) (*Key, error) {
	const headerLen = len(keyFileMagic) + 4 + 16 + 12
	if len(data) < headerLen+16 {
		return nil, errors.New("secure: key file is truncated")
	}
	iterations := int(binary.BigEndian.Uint32(data[len(keyFileMagic):]))
	if iterations < 1 || iterations > maxPBKDF2Iterations {
		return nil, fmt.Errorf("secure: key file asks for %d iterations", iterations)
	}
	salt := data[len(keyFileMagic)+4 : len(keyFileMagic)+20]
	nonce := data[len(keyFileMagic)+20 : headerLen]
	aead, err := keyFileAEAD(password, salt, iterations)
	if err != nil {
		return nil, err
	}
	der, err := aead.Open(nil, nonce, data[headerLen:], data[:headerLen])
	if err != nil {
		return nil, ErrWrongPassword
	}
	return parseDER(der)
}

// SaveReference writes the private key to path (mode 0600) in the
// reference's format, which its key_pair_load reads: the PEM (encrypted
// PKCS#8 with password, as PyCryptodome writes it, when password is not
// empty), zero-padded and encrypted with AES-256-CBC under
// PBKDF2-HMAC-SHA1(password, salt, 1000 iterations), as salt + iv + data.
// The outer layer is weak (1000 iterations, no integrity); prefer Save.
func (k *Key) SaveReference(path, password string) error {
	data, err := k.MarshalReference(password)
	if err != nil {
		return err
	}
	return writeKeyFile(path, data)
}

// MarshalReference returns what SaveReference writes.
func (k *Key) MarshalReference(password string) ([]byte, error) {
	return k.marshalReference(password, refPKCS8Iterations)
}

func (k *Key) marshalReference(password string, pemIterations int) ([]byte, error) {
	pw, ok := latin1(password)
	if !ok {
		return nil, errors.New("secure: the reference format takes only Latin-1 passwords")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("secure: encode key: %w", err)
	}
	block := &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	if password != "" {
		enc, err := encryptPKCS8(der, pw, pemIterations)
		if err != nil {
			return nil, fmt.Errorf("secure: encrypt key: %w", err)
		}
		block = &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: enc}
	}
	plain := bytes.TrimSuffix(pem.EncodeToMemory(block), []byte("\n"))
	// The reference pads with 1 to 16 zero bytes.
	plain = append(plain, make([]byte, aes.BlockSize-len(plain)%aes.BlockSize)...)
	salt, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	c, err := refCipher(pw, salt)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 32+len(plain))
	copy(out, salt)
	copy(out[16:], iv)
	cipher.NewCBCEncrypter(c, iv).CryptBlocks(out[32:], plain)
	return out, nil
}

func refCipher(password, salt []byte) (cipher.Block, error) {
	key, err := pbkdf2.Key(sha1.New, string(password), salt, refIterations, 32)
	if err != nil {
		return nil, fmt.Errorf("secure: derive key: %w", err)
	}
	return aes.NewCipher(key)
}

// parseReference decrypts the reference's key file. Its current layout is
// salt + iv + data; an earlier version wrote iv + salt + data, which is
// tried next.
func parseReference(data []byte, password string) (*Key, error) {
	if len(data) < 48 || len(data)%aes.BlockSize != 0 {
		return nil, ErrWrongPassword
	}
	pw := passwordBytes(password)
	var firstErr error
	for _, order := range [][2]int{{0, 16}, {16, 0}} {
		salt, iv := data[order[0]:order[0]+16], data[order[1]:order[1]+16]
		c, err := refCipher(pw, salt)
		if err != nil {
			return nil, err
		}
		plain := make([]byte, len(data)-32)
		cipher.NewCBCDecrypter(c, iv).CryptBlocks(plain, data[32:])
		plain = bytes.TrimRight(plain, "\x00")
		if !bytes.HasPrefix(plain, []byte("-----BEGIN")) {
			continue
		}
		k, err := parsePEM(plain, password)
		if err == nil {
			return k, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, ErrWrongPassword
}

// parsePEM reads the first private key block of a PEM text.
func parsePEM(data []byte, password string) (*Key, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("secure: no private key in PEM data")
		}
		switch block.Type {
		case "ENCRYPTED PRIVATE KEY":
			der, err := decryptPKCS8(block.Bytes, passwordBytes(password))
			if err != nil {
				return nil, fmt.Errorf("secure: %w", err)
			}
			return parseDER(der)
		case "RSA PRIVATE KEY", "PRIVATE KEY":
			der := block.Bytes
			// Legacy PEM encryption (Proc-Type: 4,ENCRYPTED), which older
			// PyCryptodome versions write for a passphrase.
			//lint:ignore SA1019 read-only, for keys older PyCryptodome wrote; we never write this format
			if x509.IsEncryptedPEMBlock(block) {
				var err error
				//lint:ignore SA1019 read-only, for keys older PyCryptodome wrote; we never write this format
				der, err = x509.DecryptPEMBlock(block, passwordBytes(password))
				if err != nil {
					return nil, ErrWrongPassword
				}
			}
			return parseDER(der)
		}
	}
}

// parseDER reads PKCS#1 or PKCS#8 DER of an RSA private key.
func parseDER(der []byte) (*Key, error) {
	if priv, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return NewKey(priv)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("secure: parse private key: %w", err)
	}
	priv, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("secure: private key is %T, not RSA", k)
	}
	return NewKey(priv)
}

// PasswordBytes is the rule by which a text password becomes the bytes
// p2psecure's formats derive keys from: its Latin-1 bytes, as PyCryptodome
// encodes a str, when every character is below U+0100; else its UTF-8
// (which p2psecure itself could not use). Bindings pass text passwords
// through it instead of encoding them themselves.
func PasswordBytes(password string) []byte { return passwordBytes(password) }

// PasswordText is the inverse for passwords given as bytes (PyCryptodome
// takes bytes as they are): each byte becomes the Latin-1 character of its
// value, so that PasswordBytes(PasswordText(b)) is b: p2psecure's formats
// and PEM files then use exactly b (this package's own key file format
// derives from the text's UTF-8, as for any text password).
func PasswordText(password []byte) string {
	r := make([]rune, len(password))
	for i, b := range password {
		r[i] = rune(b)
	}
	return string(r)
}

// passwordBytes encodes a password as PyCryptodome does (Latin-1), falling
// back to UTF-8 for one that Latin-1 cannot hold.
func passwordBytes(password string) []byte {
	if b, ok := latin1(password); ok {
		return b
	}
	return []byte(password)
}

func latin1(s string) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, false
		}
		b = append(b, byte(r))
	}
	return b, true
}

// writeKeyFile writes a key file with mode 0600, whether or not path exists,
// and atomically: a new file in the same folder, renamed over path once
// complete, so a crash never leaves half a key where the old one was.
func writeKeyFile(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("secure: save key: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	// CreateTemp makes the file 0600 already; Chmod keeps that whatever the umask did.
	if err = tmp.Chmod(0o600); err == nil {
		if _, err = tmp.Write(data); err == nil {
			err = tmp.Sync()
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("secure: save key: %w", err)
	}
	return nil
}
