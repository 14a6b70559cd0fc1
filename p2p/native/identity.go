package native

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// GenerateIdentity makes a new ed25519 identity key.
func GenerateIdentity() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("native: generate identity: %w", err)
	}
	return priv, nil
}

// MarshalIdentity encodes key as a PEM "PRIVATE KEY" block (PKCS#8).
func MarshalIdentity(key ed25519.PrivateKey) ([]byte, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("native: not an ed25519 private key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("native: encode identity: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseIdentity decodes what MarshalIdentity made.
func ParseIdentity(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("native: no PEM PRIVATE KEY block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("native: parse identity: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("native: identity is a %T, not an ed25519 key", k)
	}
	return priv, nil
}

// SaveIdentity writes key to path, mode 0600, atomically: a temporary file
// in the same folder is written, synced and renamed over path, so that a
// reader never sees half a key and an older file's mode is not kept.
func SaveIdentity(path string, key ed25519.PrivateKey) error {
	data, err := MarshalIdentity(key)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".identity-*")
	if err != nil {
		return fmt.Errorf("native: save identity: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("native: save identity: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("native: save identity: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("native: save identity: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("native: save identity: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("native: save identity: %w", err)
	}
	ok = true
	return nil
}

// LoadIdentity reads a key SaveIdentity wrote.
func LoadIdentity(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("native: load identity: %w", err)
	}
	return ParseIdentity(data)
}
