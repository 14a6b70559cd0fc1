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
)

// errorf wraps sentinel with detail.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
