package overlay

import (
	"sync"
	"time"
)

// recTransport records what an engine asked for; full makes Send fail for
// those peers, as a slow peer's full queue would.
type recTransport struct {
	mu     sync.Mutex
	sent   map[PeerID][][]byte
	closed map[PeerID]int
	dials  []Addr
	full   map[PeerID]bool
}

func newRecTransport() *recTransport {
	return &recTransport{sent: map[PeerID][][]byte{}, closed: map[PeerID]int{}, full: map[PeerID]bool{}}
}

func (t *recTransport) Send(p PeerID, f []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.full[p] {
		return ErrQueueFull
	}
	t.sent[p] = append(t.sent[p], append([]byte(nil), f...))
	return nil
}

func (t *recTransport) Dial(a Addr) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dials = append(t.dials, a)
	return nil
}

func (t *recTransport) Close(p PeerID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed[p]++
}

func (t *recTransport) closedPeers() map[PeerID]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[PeerID]int{}
	for k, v := range t.closed {
		out[k] = v
	}
	return out
}

// manualClock is moved by the test.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
