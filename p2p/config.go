package p2p

import (
	"io"
	"os"
	"time"
)

// Defaults for the limits of Config. The reference has none of these limits;
// each one bounds what a single peer can cost the node.
const (
	DefaultHandshakeTimeout  = 10 * time.Second
	DefaultDialTimeout       = 10 * time.Second
	DefaultMaxFrameSize      = 64 << 20 // 64 MiB
	DefaultMaxDecompressed   = 64 << 20 // 64 MiB
	DefaultMaxQueuedBytes    = 16 << 20 // 16 MiB per peer
	DefaultSendTimeout       = 10 * time.Second
	DefaultReconnectInterval = 1 * time.Second
	DefaultMaxPendingEvents  = 65536
)

// Config describes a node. The zero value of every field means its default.
type Config struct {
	// Host is the address to listen on, as in the reference ("127.0.0.1",
	// "0.0.0.0", a host name). Empty means all interfaces.
	Host string
	// Port to listen on; 0 picks a free port, which Node.Port reports.
	Port int
	// ID of the node. Empty generates one as the reference does: 128 hex
	// characters, the SHA-512 of host, port and a random number.
	ID string
	// MaxConnections limits inbound peers; 0 means unlimited. Beyond it an
	// inbound connection is closed without a word, as in the reference.
	MaxConnections int
	// Debug turns on debug output (see also Node.SetDebug).
	Debug bool
	// DebugOutput is where debug lines go; nil means standard error.
	DebugOutput io.Writer

	// Limits bound what one peer can cost the node.
	Limits
	// LockEventThread makes the goroutine that delivers events run on one
	// OS thread of its own for its whole life, which ends with the node.
	// Language runtimes that attach to the calling thread (mono, for one)
	// need that thread to go away when the node stops.
	LockEventThread bool
}

// Limits are the bounds the reference lacks. The zero value of each field
// means its default.
type Limits struct {
	// HandshakeTimeout bounds the wait for a peer's id (both directions).
	HandshakeTimeout time.Duration
	// DialTimeout bounds the TCP connect of Connect.
	DialTimeout time.Duration
	// MaxFrameSize is the largest frame accepted from a peer, in bytes; a
	// peer that sends a larger one is disconnected.
	MaxFrameSize int
	// MaxDecompressedSize is the largest payload a compressed frame may
	// inflate to; a larger one is dropped and counted as a receive error.
	MaxDecompressedSize int
	// MaxQueuedBytes bounds the bytes waiting to be written to one peer. A
	// send that finds the queue full waits up to SendTimeout for room, then
	// fails with ErrQueueFull.
	MaxQueuedBytes int
	// SendTimeout bounds how long a send waits for room in a full queue.
	SendTimeout time.Duration
	// ReconnectInterval is how often lost reconnect-peers are re-dialled.
	ReconnectInterval time.Duration
	// MaxPendingEvents bounds the received messages waiting for the event
	// handler; beyond it the node stops reading from peers (TCP backpressure
	// reaches the senders) until the handler catches up.
	MaxPendingEvents int
}

func (c Config) withDefaults() Config {
	c.Limits = c.Limits.withDefaults()
	if c.DebugOutput == nil {
		c.DebugOutput = os.Stderr
	}
	return c
}

func (c Limits) withDefaults() Limits {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	def(&c.DialTimeout, DefaultDialTimeout)
	def(&c.SendTimeout, DefaultSendTimeout)
	def(&c.ReconnectInterval, DefaultReconnectInterval)
	defInt(&c.MaxFrameSize, DefaultMaxFrameSize)
	defInt(&c.MaxDecompressedSize, DefaultMaxDecompressed)
	defInt(&c.MaxQueuedBytes, DefaultMaxQueuedBytes)
	defInt(&c.MaxPendingEvents, DefaultMaxPendingEvents)
	return c
}
