package p2p

import (
	"crypto/ed25519"

	"github.com/p2pnode/p2pnode/p2p/native"
)

// The native protocol's settings that a node made by New may still change
// until it starts: the C ABI creates (and binds) its node first and takes
// the mode and the identity afterwards, as it takes the limits.

// SetEncryption sets the mode of a node that has not been started.
func (n *Node) SetEncryption(mode Encryption) error {
	if n == nil {
		return errorf(ErrNilNode, "cannot set the encryption mode")
	}
	if err := (Config{Encryption: mode}).checkEncryption(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state != stateCreated {
		return errorf(ErrAlreadyStarted, "the encryption mode is fixed once the node is started")
	}
	n.cfg.Encryption = mode
	return nil
}

// SetIdentity replaces the identity key (and the certificate made from it)
// of a node that has not been started. The trust store is kept.
func (n *Node) SetIdentity(key ed25519.PrivateKey) error {
	if n == nil {
		return errorf(ErrNilNode, "cannot set the identity")
	}
	if len(key) != ed25519.PrivateKeySize {
		return errorf(ErrInvalidArgument, "identity key of %d bytes is not ed25519", len(key))
	}
	cert, err := native.Certificate(key)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state != stateCreated {
		return errorf(ErrAlreadyStarted, "the identity is fixed once the node is started")
	}
	n.identity = key
	n.tlsServer = native.Config(cert, true)
	n.tlsClient = native.Config(cert, false)
	return nil
}
