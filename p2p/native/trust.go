package native

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
)

// Errors of the trust store; the node's errors wrap them.
var (
	// ErrKeyMismatch: the peer presented another key than the one pinned
	// for the id it claims.
	ErrKeyMismatch = errors.New("native: peer key does not match the key pinned for its id")
	// ErrNotAllowed: an allow-list is set and the peer's key (or id/key
	// pair) is not on it.
	ErrNotAllowed = errors.New("native: peer key is not on the allow-list")
	// ErrDowngrade: a peer whose id is pinned to a key tried to connect
	// without encryption.
	ErrDowngrade = errors.New("native: peer id is pinned to a key but the connection is not encrypted")
)

// Trust is a node's trust store: trust on first use (the first key seen
// for an id is pinned to it), and an optional allow-list of keys, or of
// id/key pairs, outside which no native peer is accepted. It is safe for
// concurrent use.
type Trust struct {
	mu        sync.Mutex
	pins      map[string]ed25519.PublicKey
	allowKeys map[string]bool   // hex key
	allowIDs  map[string]string // id -> hex key
}

// NewTrust makes an empty store (no pins, no allow-list).
func NewTrust() *Trust {
	return &Trust{pins: make(map[string]ed25519.PublicKey)}
}

// Pin binds id to key, replacing any pin it had.
func (t *Trust) Pin(id string, key ed25519.PublicKey) error {
	if len(key) != ed25519.PublicKeySize {
		return fmt.Errorf("native: pin %q: key of %d bytes is not ed25519", id, len(key))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pins[id] = append(ed25519.PublicKey(nil), key...)
	return nil
}

// Unpin forgets id's pin.
func (t *Trust) Unpin(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pins, id)
}

// Pinned returns the key pinned for id.
func (t *Trust) Pinned(id string) (ed25519.PublicKey, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k, ok := t.pins[id]
	return k, ok
}

// Pins is a copy of every pin.
func (t *Trust) Pins() map[string]ed25519.PublicKey {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]ed25519.PublicKey, len(t.pins))
	for id, k := range t.pins {
		out[id] = k
	}
	return out
}

// Allow adds key to the allow-list; with a non-empty id only for that id.
// Once the list holds anything, only what it allows is accepted.
func (t *Trust) Allow(id string, key ed25519.PublicKey) error {
	if len(key) != ed25519.PublicKeySize {
		return fmt.Errorf("native: allow %q: key of %d bytes is not ed25519", id, len(key))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	h := hex.EncodeToString(key)
	if id == "" {
		if t.allowKeys == nil {
			t.allowKeys = make(map[string]bool)
		}
		t.allowKeys[h] = true
		return nil
	}
	if t.allowIDs == nil {
		t.allowIDs = make(map[string]string)
	}
	t.allowIDs[id] = h
	return nil
}

// Check decides on a native peer that proved it holds key and claims id:
// nil (and the key pinned to the id, on first use), or why it is refused.
func (t *Trust) Check(id string, key ed25519.PublicKey) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := hex.EncodeToString(key)
	if len(t.allowKeys) > 0 || len(t.allowIDs) > 0 {
		want, named := t.allowIDs[id]
		if !t.allowKeys[h] && !(named && want == h) {
			return fmt.Errorf("%w: %q with key %s", ErrNotAllowed, id, h)
		}
	}
	if pinned, ok := t.pins[id]; ok {
		if !pinned.Equal(key) {
			return fmt.Errorf("%w: %q presented %s, pinned %s", ErrKeyMismatch, id, h, hex.EncodeToString(pinned))
		}
		return nil
	}
	t.pins[id] = append(ed25519.PublicKey(nil), key...)
	return nil
}

// CheckPlain decides on a peer that claims id without encryption: refused
// when the id is pinned (it was seen native before) or when an allow-list
// is set (a plaintext peer proves no key).
func (t *Trust) CheckPlain(id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.pins[id]; ok {
		return fmt.Errorf("%w: %q", ErrDowngrade, id)
	}
	if len(t.allowKeys) > 0 || len(t.allowIDs) > 0 {
		return fmt.Errorf("%w: %q connected without encryption", ErrNotAllowed, id)
	}
	return nil
}
