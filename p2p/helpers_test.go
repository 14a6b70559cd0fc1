package p2p_test

import (
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

const waitLimit = 10 * time.Second

// recorder keeps every event of a node, in order, and answers reconnection
// questions with answer.
type recorder struct {
	mu     sync.Mutex
	events []p2p.Event
	answer func(trials int) bool
	onEv   func(ev *p2p.Event)
}

func (r *recorder) handle(ev *p2p.Event) bool {
	if r.onEv != nil {
		r.onEv(ev)
	}
	r.mu.Lock()
	r.events = append(r.events, *ev)
	answer := r.answer
	r.mu.Unlock()
	if ev.Type == p2p.EventReconnectionError && answer != nil {
		return answer(ev.Trials)
	}
	return true
}

func (r *recorder) all() []p2p.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]p2p.Event(nil), r.events...)
}

func (r *recorder) ofType(t p2p.EventType) []p2p.Event {
	var out []p2p.Event
	for _, ev := range r.all() {
		if ev.Type == t {
			out = append(out, ev)
		}
	}
	return out
}

func (r *recorder) messages() []p2p.Message {
	var out []p2p.Message
	for _, ev := range r.ofType(p2p.EventMessage) {
		out = append(out, ev.Message)
	}
	return out
}

func (r *recorder) types() []p2p.EventType {
	var out []p2p.EventType
	for _, ev := range r.all() {
		out = append(out, ev.Type)
	}
	return out
}

// startNode makes and starts a node on a free loopback port, stopped at the
// end of the test.
func startNode(t *testing.T, cfg p2p.Config, r *recorder) *p2p.Node {
	t.Helper()
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.DebugOutput == nil {
		cfg.DebugOutput = io.Discard
	}
	var n *p2p.Node
	var err error
	if r == nil {
		n, err = p2p.New(cfg, nil)
	} else {
		n, err = p2p.NewWithCallback(cfg, r.handle)
	}
	require.NoError(t, err)
	require.NoError(t, n.Start())
	t.Cleanup(func() { _ = n.Stop() })
	return n
}

// eventually waits for cond, failing the test after waitLimit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// pair connects a to b and waits until both see the connection.
func pair(t *testing.T, a, b *p2p.Node) (out, in *p2p.Peer) {
	t.Helper()
	out, err := a.Connect("127.0.0.1", b.Port(), false)
	require.NoError(t, err)
	eventually(t, "inbound peer", func() bool { return len(b.Inbound()) > 0 })
	for _, p := range b.Inbound() {
		if p.ID() == a.ID() {
			in = p
		}
	}
	require.NotNil(t, in)
	return out, in
}

func label(i int) string { return fmt.Sprintf("m%06d", i) }
