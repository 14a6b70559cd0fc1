package native

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// ErrNotEd25519 is the handshake error for a peer whose certificate key is
// not an ed25519 key.
var ErrNotEd25519 = errors.New("native: peer certificate key is not ed25519")

// Certificate makes the self-signed certificate a node presents: it only
// carries the public key, which TLS proves the peer holds; who the key
// belongs to is the trust store's business, not a CA's.
func Certificate(key ed25519.PrivateKey) (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("native: certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(100, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("native: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// Config is the TLS 1.3 configuration of one side. Both sides present their
// certificate and skip the CA check; verifyPeer only accepts one
// certificate with an ed25519 key (the id claim is checked against the
// trust store once the hello frame names it).
func Config(cert tls.Certificate, server bool) *tls.Config {
	c := &tls.Config{
		MinVersion:            tls.VersionTLS13,
		MaxVersion:            tls.VersionTLS13,
		Certificates:          []tls.Certificate{cert},
		InsecureSkipVerify:    true, // verification is verifyPeer's
		VerifyPeerCertificate: verifyPeer,
		NextProtos:            []string{"p2pnode/1"},
	}
	if server {
		c.ClientAuth = tls.RequireAnyClientCert
	}
	return c
}

func verifyPeer(raw [][]byte, _ [][]*x509.Certificate) error {
	if len(raw) != 1 {
		return fmt.Errorf("native: peer sent %d certificates, want 1", len(raw))
	}
	_, err := keyOf(raw[0])
	return err
}

func keyOf(der []byte) (ed25519.PublicKey, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("native: peer certificate: %w", err)
	}
	k, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return nil, ErrNotEd25519
	}
	return k, nil
}

// PeerKey is the identity key of the peer of a finished handshake.
func PeerKey(cs tls.ConnectionState) (ed25519.PublicKey, error) {
	if len(cs.PeerCertificates) != 1 {
		return nil, errors.New("native: no peer certificate")
	}
	k, ok := cs.PeerCertificates[0].PublicKey.(ed25519.PublicKey)
	if !ok {
		return nil, ErrNotEd25519
	}
	return k, nil
}
