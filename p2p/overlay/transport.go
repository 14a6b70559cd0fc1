package overlay

import (
	"errors"
	"time"
)

// PeerID names a peer: the node id it proved on its native connection.
type PeerID string

// Addr is where a node listens.
type Addr struct {
	Host string
	Port uint16
}

// LinkInfo describes a link when it comes up.
type LinkInfo struct {
	ID      PeerID
	Host    string // the peer's address as seen on the socket
	Port    uint16 // the port the peer listens on (from its hello), 0 if unknown
	Inbound bool   // the peer dialled us
}

// Transport is what an engine needs from the node that carries it. All
// methods must return promptly; see the package comment.
type Transport interface {
	// Send queues one frame of the engine's capability for peer. It fails
	// (ErrQueueFull, ErrNoLink) rather than blocking.
	Send(peer PeerID, frame []byte) error
	// Dial starts a connection; success is reported by LinkUp, failure by
	// DialFailed on the Discovery engine.
	Dial(addr Addr) error
	// Close ends the link to peer; the owner reports LinkDown afterwards.
	Close(peer PeerID)
}

// Clock is the engines' only source of time, injectable for tests.
type Clock interface {
	Now() time.Time
}

// SystemClock reads the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Protocol is what the owner drives; both engines implement it.
type Protocol interface {
	Capability() string
	LinkUp(info LinkInfo)
	LinkDown(peer PeerID)
	Frame(peer PeerID, frame []byte)
	Tick()
}

// Errors a Transport may return.
var (
	ErrQueueFull = errors.New("overlay: peer queue full")
	ErrNoLink    = errors.New("overlay: no link to peer")
)
