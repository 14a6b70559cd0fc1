package p2p_test

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// batchRecorder is a BatchHandler: it keeps the texts of its messages by
// sending peer, and the other events in order.
type batchRecorder struct {
	p2p.BaseHandler
	node    *p2p.Node
	mu      sync.Mutex
	byPeer  map[string][]string
	calls   int
	events  int
	maxSize int
	wrong   []string       // what broke the contract
	gone    map[string]int // messages of a peer seen when its disconnected event came
}

func newBatchRecorder() *batchRecorder {
	return &batchRecorder{byPeer: make(map[string][]string), gone: make(map[string]int)}
}

func (r *batchRecorder) NodeMessages(evs []p2p.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.events += len(evs)
	r.maxSize = max(r.maxSize, len(evs))
	if len(evs) == 0 {
		r.wrong = append(r.wrong, "empty batch")
	}
	if r.node != nil && !r.node.InHandler() {
		r.wrong = append(r.wrong, "batch outside the event goroutine")
	}
	for i := range evs {
		ev := &evs[i]
		if ev.Type != p2p.EventMessage || ev.Peer == nil {
			r.wrong = append(r.wrong, "not a message event: "+ev.Type.String())
			continue
		}
		r.byPeer[ev.Peer.ID()] = append(r.byPeer[ev.Peer.ID()], ev.Message.Text())
	}
}

func (r *batchRecorder) NodeMessage(*p2p.Peer, p2p.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wrong = append(r.wrong, "NodeMessage called on a BatchHandler")
}

func (r *batchRecorder) InboundNodeDisconnected(p *p2p.Peer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gone[p.ID()] = len(r.byPeer[p.ID()])
}

func (r *batchRecorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byPeer[id])
}

func (r *batchRecorder) goneAt(id string) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.gone[id]
	return n, ok
}

// TestBatchHandlerOrderNoLoss: two peers stream numbered messages, by Send
// and SendMany, to a BatchHandler; each peer's arrive complete and in
// order, and its disconnected event comes after the last of them.
func TestBatchHandlerOrderNoLoss(t *testing.T) {
	for _, mode := range []p2p.Encryption{p2p.EncryptionOff, p2p.EncryptionPreferred} {
		t.Run(mode.String(), func(t *testing.T) {
			h := newBatchRecorder()
			b, err := p2p.New(p2p.Config{Host: "127.0.0.1", DebugOutput: io.Discard}, h)
			require.NoError(t, err)
			h.node = b
			require.NoError(t, b.SetEncryption(mode))
			require.NoError(t, b.Start())
			t.Cleanup(func() { _ = b.Stop() })
			const n = 20000
			var senders []*p2p.Node
			var wg sync.WaitGroup
			for s := 0; s < 2; s++ {
				a := startNode(t, p2p.Config{ID: "sender" + strconv.Itoa(s)}, &recorder{})
				senders = append(senders, a)
				p, _ := pair(t, a, b)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < n; {
						if i%3 == 0 {
							assert.NoError(t, p.Send(p2p.Text(label(i)), p2p.None))
							i++
							continue
						}
						k := min(1+i%700, n-i)
						batch := make([][]byte, k)
						for j := range batch {
							batch[j] = p2p.Text(label(i + j))
						}
						sent, err := p.SendMany(batch, p2p.None)
						assert.NoError(t, err)
						i += sent
					}
				}()
			}
			wg.Wait()
			for _, a := range senders {
				eventually(t, "every message of "+a.ID(), func() bool { return h.count(a.ID()) == n })
			}
			// Then the disconnected events, after every message.
			for _, a := range senders {
				require.NoError(t, a.Stop())
			}
			for _, a := range senders {
				eventually(t, "disconnected event", func() bool { _, ok := h.goneAt(a.ID()); return ok })
				at, _ := h.goneAt(a.ID())
				assert.Equal(t, n, at, "messages seen before the disconnected event")
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			assert.Empty(t, h.wrong)
			for id, got := range h.byPeer {
				require.Len(t, got, n, id)
				for i, s := range got {
					if s != label(i) {
						t.Fatalf("%s: message %d is %q", id, i, s)
					}
				}
			}
			t.Logf("%d messages in %d batches (largest %d)", h.events, h.calls, h.maxSize)
		})
	}
}

// TestBatchFuncPanicCostsItsBatch: a batch function that panics is
// reported; the node goes on, and the next batch arrives.
func TestBatchFuncPanicCostsItsBatch(t *testing.T) {
	var out bytes.Buffer
	rb := &recorder{}
	a := startNode(t, p2p.Config{}, &recorder{})
	b, err := p2p.NewWithCallback(p2p.Config{Host: "127.0.0.1", DebugOutput: &lockedWriter{w: &out}}, rb.handle)
	require.NoError(t, err)
	var boomed atomic.Bool
	var mu sync.Mutex
	var got []string
	require.NoError(t, b.SetBatchFunc(func(evs []p2p.Event) {
		for i := range evs {
			if evs[i].Message.Text() == "boom" {
				boomed.Store(true)
				panic("user bug")
			}
			mu.Lock()
			got = append(got, evs[i].Message.Text())
			mu.Unlock()
		}
	}))
	require.NoError(t, b.Start())
	t.Cleanup(func() { _ = b.Stop() })
	p, _ := pair(t, a, b)
	require.NoError(t, p.Send(p2p.Text("boom"), p2p.None))
	eventually(t, "the panic", boomed.Load)
	require.NoError(t, p.Send(p2p.Text("after"), p2p.None))
	eventually(t, "message after the panic", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1 && got[0] == "after"
	})
	// The other events still reach the HandlerFunc, messages never do.
	assert.Empty(t, rb.ofType(p2p.EventMessage))
	assert.NotEmpty(t, rb.ofType(p2p.EventInboundConnected))
	require.NoError(t, b.Stop())
	assert.Contains(t, out.String(), "batch handler panicked")
}

// TestBatchFuncStopWhileInFlight: Stop from another goroutine while a
// batch is being handled waits for it; Stop and Disconnect from inside the
// batch function return at once, and the event Disconnect raises is
// delivered inline, within the batch.
func TestBatchFuncStopWhileInFlight(t *testing.T) {
	t.Run("from outside", func(t *testing.T) {
		a := startNode(t, p2p.Config{}, &recorder{})
		b, err := p2p.NewWithCallback(p2p.Config{Host: "127.0.0.1", DebugOutput: io.Discard}, (&recorder{}).handle)
		require.NoError(t, err)
		entered := make(chan struct{})
		release := make(chan struct{})
		var calls atomic.Int32
		require.NoError(t, b.SetBatchFunc(func(evs []p2p.Event) {
			if calls.Add(1) == 1 {
				close(entered)
				<-release
			}
		}))
		require.NoError(t, b.Start())
		t.Cleanup(func() { _ = b.Stop() })
		p, _ := pair(t, a, b)
		for i := 0; i < 100; i++ {
			require.NoError(t, p.Send(p2p.Text(label(i)), p2p.None))
		}
		waitChan(t, entered, "first batch")
		stopped := make(chan error, 1)
		go func() { stopped <- b.Stop() }()
		select {
		case <-stopped:
			t.Fatal("Stop returned while a batch was in flight")
		case <-b.Done():
			t.Fatal("the node was done while a batch was in flight")
		default:
		}
		close(release)
		select {
		case err := <-stopped:
			require.NoError(t, err)
		case <-time.After(waitLimit):
			t.Fatal("Stop did not return once the batch was handled")
		}
		after := calls.Load()
		_ = p.Send(p2p.Text("late"), p2p.None)
		assert.Equal(t, after, calls.Load(), "a batch after Stop returned")
	})
	t.Run("from inside", func(t *testing.T) {
		ra := &recorder{}
		a := startNode(t, p2p.Config{}, ra)
		rb := &recorder{}
		b, err := p2p.NewWithCallback(p2p.Config{Host: "127.0.0.1", DebugOutput: io.Discard}, rb.handle)
		require.NoError(t, err)
		var inline atomic.Int32
		done := make(chan struct{})
		var once sync.Once
		require.NoError(t, b.SetBatchFunc(func(evs []p2p.Event) {
			once.Do(func() {
				before := len(rb.ofType(p2p.EventDisconnectWithOutbound))
				assert.NoError(t, b.Disconnect(evs[0].Peer))
				// The outbound peer's question was answered inline.
				inline.Store(int32(len(rb.ofType(p2p.EventDisconnectWithOutbound)) - before))
				_ = b.Stop()
				close(done)
			})
		}))
		require.NoError(t, b.Start())
		t.Cleanup(func() { _ = b.Stop() })
		// b dials a, so that a's messages come from b's outbound peer.
		out, err := b.Connect("127.0.0.1", a.Port(), false)
		require.NoError(t, err)
		eventually(t, "inbound peer on a", func() bool { return len(a.Inbound()) == 1 })
		require.NoError(t, a.Inbound()[0].Send(p2p.Text("hi"), p2p.None))
		waitChan(t, done, "Stop and Disconnect from the batch function")
		waitChan(t, b.Done(), "the node's end")
		assert.Equal(t, int32(1), inline.Load(), "node_disconnect_with_outbound_node delivered inline")
		assert.Len(t, rb.ofType(p2p.EventOutboundDisconnected), 1)
		_, ok := b.PeerByHandle(out.Handle())
		assert.False(t, ok)
	})
}

func waitChan(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestSetBatchFuncAfterStart(t *testing.T) {
	n := startNode(t, p2p.Config{}, &recorder{})
	err := n.SetBatchFunc(func([]p2p.Event) {})
	assert.True(t, errors.Is(err, p2p.ErrAlreadyStarted), "%v", err)
	var nilNode *p2p.Node
	assert.Error(t, nilNode.SetBatchFunc(nil))
}

// TestPeerByHandleEpoch: the epoch moves when a handle is released, so a
// cached peer is known stale without a lookup.
func TestPeerByHandleEpoch(t *testing.T) {
	ra := &recorder{}
	a := startNode(t, p2p.Config{}, ra)
	b := startNode(t, p2p.Config{}, &recorder{})
	out, _ := pair(t, a, b)
	p, epoch, cacheable, ok := a.PeerByHandleEpoch(out.Handle())
	require.True(t, ok)
	assert.True(t, cacheable)
	assert.Same(t, out, p)
	assert.Equal(t, epoch, a.HandleEpoch())
	require.NoError(t, a.Disconnect(out))
	eventually(t, "disconnected", func() bool { return len(ra.ofType(p2p.EventOutboundDisconnected)) == 1 })
	eventually(t, "handle released", func() bool { return a.HandleEpoch() != epoch })
	_, _, _, ok = a.PeerByHandleEpoch(out.Handle())
	assert.False(t, ok)
}

// BenchmarkDelivery streams 64-byte messages one way and delivers them per
// event (HandlerFunc) or per batch (SetBatchFunc), plaintext and native.
func BenchmarkDelivery(b *testing.B) {
	for _, mode := range []p2p.Encryption{p2p.EncryptionOff, p2p.EncryptionPreferred} {
		for _, batched := range []bool{false, true} {
			name := mode.String() + "/event"
			if batched {
				name = mode.String() + "/batch"
			}
			b.Run(name, func(b *testing.B) { benchDelivery(b, mode, batched) })
		}
	}
}

func benchDelivery(b *testing.B, mode p2p.Encryption, batched bool) {
	var got atomic.Int64
	want := int64(b.N)
	done := make(chan struct{})
	count := func(k int) {
		if got.Add(int64(k)) == want {
			close(done)
		}
	}
	cfg := p2p.Config{Host: "127.0.0.1", DebugOutput: io.Discard}
	rb, err := p2p.NewWithCallback(cfg, func(ev *p2p.Event) bool {
		if ev.Type == p2p.EventMessage {
			count(1)
		}
		return true
	})
	require.NoError(b, err)
	if batched {
		require.NoError(b, rb.SetBatchFunc(func(evs []p2p.Event) { count(len(evs)) }))
	}
	ra, err := p2p.New(cfg, nil)
	require.NoError(b, err)
	for _, n := range []*p2p.Node{ra, rb} {
		require.NoError(b, n.SetEncryption(mode))
		require.NoError(b, n.Start())
		defer n.Stop()
	}
	p, err := ra.Connect("127.0.0.1", rb.Port(), false)
	require.NoError(b, err)
	payload := bytes.Repeat([]byte("m"), 64)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Send(payload, p2p.None); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("%d of %d messages", got.Load(), want)
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "allocs/msg")
}
