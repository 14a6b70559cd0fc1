package p2p

import (
	"crypto/ed25519"
	"fmt"
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
	DefaultStopTimeout       = 10 * time.Second

	// Admission (see Limits.MaxPendingHandshakes and Config.MaxConnections).
	DefaultMaxPendingHandshakes           = 256
	DefaultMaxPendingHandshakesPerAddress = 128
	DefaultIdleEviction                   = 10 * time.Second

	// Node-wide memory caps, and the share of each one that the connections
	// from one address may hold together.
	DefaultMaxPendingBytes           = 256 << 20 // 256 MiB of partial inbound frames
	DefaultMaxPendingBytesPerAddress = 128 << 20
	DefaultMaxQueuedBytesTotal       = 256 << 20 // 256 MiB waiting to be written
	DefaultMaxQueuedBytesPerAddress  = 128 << 20
)

// OverflowPolicy says what a send does when a peer's queue is full: when
// the peer's queued bytes, the bytes queued for all peers at its address or
// the bytes queued for the whole node would go over MaxQueuedBytes,
// MaxQueuedBytesPerAddress or MaxQueuedBytesTotal. Sends to several peers
// (Node.SendToNodes, the broadcasts of the layers above) never wait on one
// peer whatever the policy: with OverflowWait or OverflowDropNewest a peer
// that is full does not get that message (the error names it,
// Counters.Refused counts it), OverflowDropOldest and OverflowDisconnect act
// as for a single send, and the other peers get it in every case.
//
// Whatever the policy, a peer whose queue stays full while nothing at all
// can be written to it for SendTimeout is disconnected; what was queued for
// it is counted in Counters.DroppedOverflow and the node's Counters.Stalled.
type OverflowPolicy int

const (
	// OverflowWait (the default): a send to one peer waits up to SendTimeout
	// for room in THAT peer's queue, then fails with ErrQueueFull; it returns
	// at once with ErrStopped or ErrPeerClosed when the node stops or the
	// peer goes. The message is then not accepted (Counters.Refused).
	OverflowWait OverflowPolicy = iota
	// OverflowDropNewest: the new message is not queued; the send fails at
	// once with ErrQueueFull (Counters.Refused). What is queued stays.
	OverflowDropNewest
	// OverflowDropOldest: the oldest messages still waiting in the peer's
	// queue are discarded to make room (counted in DroppedOverflow) and the
	// send succeeds. Messages are discarded whole, oldest first, a queue
	// chunk (up to 64 KiB of small messages) at a time; what the writer is
	// writing already (at most a quarter of MaxQueuedBytes, 1 MiB) stays.
	// When the address's or the node's queues are the full ones, this peer's
	// own oldest messages are what is discarded. If the message cannot fit
	// even then, it fails with ErrQueueFull.
	OverflowDropOldest
	// OverflowDisconnect: the peer is disconnected; the send fails with
	// ErrQueueFull and what was queued for the peer is counted in
	// DroppedOverflow.
	OverflowDisconnect
)

func (o OverflowPolicy) String() string {
	switch o {
	case OverflowWait:
		return "wait"
	case OverflowDropNewest:
		return "drop-newest"
	case OverflowDropOldest:
		return "drop-oldest"
	case OverflowDisconnect:
		return "disconnect"
	}
	return fmt.Sprintf("OverflowPolicy(%d)", int(o))
}

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
	// MaxConnections limits established inbound peers; 0 means unlimited.
	// A connection takes a slot only once its handshake is complete (the
	// handshakes under way are bounded by Limits.MaxPendingHandshakes). When
	// every slot is taken, a newly handshaken connection takes the slot of
	// the inbound peer that has sent nothing for the longest time, chosen
	// from the address with the most inbound peers, provided that peer has
	// been silent for at least Limits.IdleEviction, or a fifth of it for a
	// peer that has sent no message at all since its handshake
	// (Counters.Evicted counts them); otherwise the new connection is closed
	// without our id, as the reference closes it without a word. Loopback
	// gets no exemption.
	MaxConnections int
	// Debug turns on debug output (see also Node.SetDebug).
	Debug bool
	// DebugOutput is where debug lines go; nil means standard error.
	DebugOutput io.Writer

	// Encryption is the node's mode for the native protocol: preferred
	// (the zero value), off or required.
	Encryption Encryption
	// Identity is the node's ed25519 identity key; nil generates one (see
	// LoadIdentity and SaveIdentity to keep it).
	Identity ed25519.PrivateKey
	// Pins bind node ids to keys from the start (see Node.PinPeer).
	Pins map[string]ed25519.PublicKey
	// AllowKeys and AllowPeers are the allow-list: when either holds
	// anything, only native peers with one of AllowKeys, or with the key
	// AllowPeers names for their id, are accepted (see Node.AllowPeer).
	AllowKeys  []ed25519.PublicKey
	AllowPeers map[string]ed25519.PublicKey

	// Limits bound what one peer can cost the node.
	Limits
	// LockEventThread makes the goroutine that delivers events run on one
	// OS thread of its own for its whole life, which ends with the node.
	// Language runtimes that attach to the calling thread (mono, for one)
	// need that thread to go away when the node stops.
	LockEventThread bool
	// CallerID tells callers apart for the rules that depend on who calls
	// (the poller: see Poll); nil means the calling goroutine. The C ABI
	// gives the OS thread, which is far cheaper to read from a C thread.
	CallerID func() uint64
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
	// MaxQueuedBytes bounds the bytes waiting to be written to one peer;
	// OverflowPolicy says what a send does when it is reached.
	MaxQueuedBytes int
	// SendTimeout bounds how long a send waits for room in a full queue
	// (OverflowWait), and how long a peer may stay full while nothing can
	// be written to it before it is disconnected (every policy).
	SendTimeout time.Duration
	// OverflowPolicy is what a send does when a queue is full; the zero
	// value is OverflowWait.
	OverflowPolicy OverflowPolicy
	// MaxQueuedBytesTotal bounds the bytes waiting to be written to all
	// peers of the node together; MaxQueuedBytesPerAddress bounds those of
	// the peers at one IP address together. A send that would go over
	// either is treated as finding its peer's queue full.
	MaxQueuedBytesTotal      int
	MaxQueuedBytesPerAddress int
	// StopTimeout bounds how long Stop (and Disconnect) flush what is
	// queued for a peer before closing its connection; what could not be
	// written by then is dropped, counted (Counters.DroppedStop) and
	// reported by Stop's error (ErrUndelivered).
	StopTimeout time.Duration
	// MaxPendingHandshakes bounds the inbound connections whose handshake
	// is under way, node-wide; MaxPendingHandshakesPerAddress bounds those
	// from one IP address. When a new connection finds either bound
	// reached, the oldest handshake under way from the same address (or,
	// for the node-wide bound, from the address with the most handshakes
	// under way) is closed to make room (Counters.HandshakesEvicted), so
	// silent sockets cannot keep others out for longer than it takes to
	// open new ones.
	MaxPendingHandshakes           int
	MaxPendingHandshakesPerAddress int
	// IdleEviction is how long an established inbound peer must have sent
	// nothing before a new peer may take its slot when MaxConnections is
	// reached; a fifth of it for a peer that never sent a message (see
	// Config.MaxConnections).
	IdleEviction time.Duration
	// MaxPendingBytes bounds the bytes of frames received in part (read
	// from the sockets, EOT not yet seen) across all connections;
	// MaxPendingBytesPerAddress bounds those of the connections from one IP
	// address. The connection whose read goes over either is disconnected
	// (a debug line says so; Counters.OverMemory counts it), and its bytes
	// are released.
	MaxPendingBytes           int
	MaxPendingBytesPerAddress int
	// ReconnectInterval is how often lost reconnect-peers are re-dialled.
	ReconnectInterval time.Duration
	// MaxPendingEvents bounds the received messages waiting for the event
	// handler; beyond it the node stops reading from peers (TCP backpressure
	// reaches the senders) until the handler catches up.
	MaxPendingEvents int
	// HeartbeatInterval is how often a native peer is sent a ping;
	// HeartbeatTimeout (by default 2.5 intervals) is how long a native peer
	// may send nothing at all before it is disconnected. The silence is
	// checked every quarter interval, so a silent peer goes within three
	// intervals. The timeout is never shorter than 2.5 times the interval
	// the peer announced. Plaintext peers get no heartbeats.
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	// NegotiationWait is the least time a dialer in preferred or required
	// mode waits for the listener's greeting before it takes the peer for a
	// p2pnetwork one; the wait is 8 times the measured connect time when
	// that is longer, but at most NegotiationWaitMax.
	NegotiationWait    time.Duration
	NegotiationWaitMax time.Duration
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
	def(&c.StopTimeout, DefaultStopTimeout)
	def(&c.IdleEviction, DefaultIdleEviction)
	defInt(&c.MaxQueuedBytesTotal, DefaultMaxQueuedBytesTotal)
	defInt(&c.MaxQueuedBytesPerAddress, DefaultMaxQueuedBytesPerAddress)
	defInt(&c.MaxPendingHandshakes, DefaultMaxPendingHandshakes)
	defInt(&c.MaxPendingHandshakesPerAddress, DefaultMaxPendingHandshakesPerAddress)
	defInt(&c.MaxPendingBytes, DefaultMaxPendingBytes)
	defInt(&c.MaxPendingBytesPerAddress, DefaultMaxPendingBytesPerAddress)
	def(&c.HeartbeatInterval, DefaultHeartbeatInterval)
	def(&c.HeartbeatTimeout, c.HeartbeatInterval*5/2)
	def(&c.NegotiationWait, DefaultNegotiationWait)
	def(&c.NegotiationWaitMax, DefaultNegotiationWaitMax)
	if c.NegotiationWaitMax < c.NegotiationWait {
		c.NegotiationWaitMax = c.NegotiationWait
	}
	return c
}

// check rejects values the node cannot honour: an unknown overflow policy.
// (Zero and negative values mean the default.)
func (c Limits) check() error {
	if c.OverflowPolicy < OverflowWait || c.OverflowPolicy > OverflowDisconnect {
		return errorf(ErrInvalidArgument, "unknown overflow policy %d", int(c.OverflowPolicy))
	}
	return nil
}

func (c Config) checkEncryption() error {
	if c.Encryption < EncryptionPreferred || c.Encryption > EncryptionRequired {
		return errorf(ErrInvalidArgument, "unknown encryption mode %d", int(c.Encryption))
	}
	return nil
}
