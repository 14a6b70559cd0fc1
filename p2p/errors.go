package p2p

import (
	"errors"
	"fmt"
)

// Sentinel errors of the node; returned errors wrap them with detail, so test
// them with errors.Is.
var (
	ErrNotStarted        = errors.New("p2p: node is not started")
	ErrStopped           = errors.New("p2p: node is stopped")
	ErrAlreadyStarted    = errors.New("p2p: node is already started")
	ErrSelfConnect       = errors.New("p2p: cannot connect with yourself")
	ErrAlreadyConnected  = errors.New("p2p: already connected with this node")
	ErrRefused           = errors.New("p2p: peer closed the connection during the handshake")
	ErrHandshake         = errors.New("p2p: handshake failed")
	ErrPeerClosed        = errors.New("p2p: peer connection is closed")
	ErrUnknownPeer       = errors.New("p2p: peer is not connected with this node")
	ErrQueueFull         = errors.New("p2p: send queue of peer is full")
	ErrMessageTooLarge   = errors.New("p2p: message exceeds the frame size limit")
	ErrFrameTooLarge     = errors.New("p2p: peer sent a frame over the size limit")
	ErrInvalidArgument   = errors.New("p2p: invalid argument")
	ErrUnsupportedValue  = errors.New("p2p: value cannot be encoded as JSON")
	ErrHandlerInProgress = errors.New("p2p: cannot wait for the node from its own event handler")
	// ErrNilPeer and ErrNilNode are returned by the methods of a nil *Peer
	// or *Node (say, the peer of a Connect that failed, its error unchecked)
	// instead of a panic; their accessors give zero values (a nil node's
	// Done is closed).
	ErrNilPeer = errors.New("p2p: nil peer")
	ErrNilNode = errors.New("p2p: nil node")
	// ErrUndelivered is wrapped by the error of Stop when messages accepted
	// for peers could not be written before the node closed (see
	// UndeliveredError and Counters).
	ErrUndelivered = errors.New("p2p: accepted messages were not delivered")
)

// errorf wraps sentinel with detail.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

// UndeliveredError is the error Stop returns when messages accepted for
// peers were dropped instead of written once the stop had begun: cut off by
// StopTimeout, or lost with a link that broke meanwhile. errors.Is(err,
// ErrUndelivered) holds. The node's Counters say the same, and each peer's
// disconnected event carries its share.
type UndeliveredError struct {
	// Messages and Bytes are what was dropped since Stop began.
	Messages, Bytes uint64
}

func (e *UndeliveredError) Error() string {
	return fmt.Sprintf("p2p: stop: %d accepted message(s) (%d bytes) were not delivered", e.Messages, e.Bytes)
}

// Unwrap makes errors.Is(err, ErrUndelivered) hold.
func (e *UndeliveredError) Unwrap() error { return ErrUndelivered }
