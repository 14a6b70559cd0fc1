package p2p_test

// The soak test runs only with P2PNODE_SOAK=1 (make fuzz runs it):
//
//	P2PNODE_SOAK=1 go test -race -run Soak -v ./p2p/
//
// P2PNODE_SOAK_TIME sets its length (default 25s).

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// soakSeq checks that the numbered messages of each sender arrive in order,
// each once.
type soakSeq struct {
	mu     sync.Mutex
	next   map[string]int
	errors []string
	churn  atomic.Int64
}

func (s *soakSeq) handle(ev *p2p.Event) bool {
	if ev.Type != p2p.EventMessage {
		return true
	}
	sender, num, ok := strings.Cut(ev.Message.Text(), "#")
	if !ok {
		s.churn.Add(1)
		return true
	}
	k, err := strconv.Atoi(num)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || k != s.next[sender] {
		if len(s.errors) < 10 {
			s.errors = append(s.errors, fmt.Sprintf("%s: got %q, want #%d", sender, num, s.next[sender]))
		}
	}
	s.next[sender] = k + 1
	return true
}

func (s *soakSeq) count(sender string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next[sender]
}

func newSoakSeq() *soakSeq { return &soakSeq{next: make(map[string]int)} }

func soakNode(t *testing.T, h p2p.HandlerFunc) *p2p.Node {
	t.Helper()
	n, err := p2p.NewWithCallback(p2p.Config{Host: "127.0.0.1", DebugOutput: io.Discard,
		Limits: p2p.Limits{SendTimeout: 2 * time.Second, ReconnectInterval: 50 * time.Millisecond}}, h)
	require.NoError(t, err)
	require.NoError(t, n.Start())
	return n
}

// soakSend sends numbered messages from p under the name sender, keeping at
// most window of them unconfirmed (confirmed reports how many arrived).
// It returns how many were sent when stop closes.
func soakSend(p *p2p.Peer, sender string, window int, confirmed func() int, stop <-chan struct{}, fail func(string)) int {
	sent := 0
	for {
		select {
		case <-stop:
			return sent
		default:
		}
		if sent-confirmed() >= window {
			runtime.Gosched()
			continue
		}
		if err := p.Send(p2p.Text(sender+"#"+strconv.Itoa(sent)), p2p.None); err != nil {
			fail(fmt.Sprintf("%s: send %d on a stable connection: %v", sender, sent, err))
			return sent
		}
		sent++
	}
}

// TestSoakChurn: a hub with stable peers exchanging numbered messages both
// ways while other peers keep joining and leaving (gracefully, by stop, by
// reset, inbound and outbound). No message is lost or reordered on the
// stable connections, the hub ends with only its stable peers, and its
// memory is back near where it was once the churn stops.
func TestSoakChurn(t *testing.T) {
	if os.Getenv("P2PNODE_SOAK") != "1" {
		t.Skip("set P2PNODE_SOAK=1 to run the soak test")
	}
	length := 25 * time.Second
	if s := os.Getenv("P2PNODE_SOAK_TIME"); s != "" {
		d, err := time.ParseDuration(s)
		require.NoError(t, err)
		length = d
	}
	hubSeq := newSoakSeq()
	hub := soakNode(t, hubSeq.handle)
	defer func() { require.NoError(t, hub.Stop()) }()

	const stable = 3
	type stablePeer struct {
		node  *p2p.Node
		seq   *soakSeq
		out   *p2p.Peer // its connection to the hub
		in    *p2p.Peer // the hub's side
		name  string
		sent  int // by the stable peer
		rsent int // by the hub to it
	}
	peers := make([]*stablePeer, stable)
	for i := range peers {
		sp := &stablePeer{seq: newSoakSeq(), name: "stable" + strconv.Itoa(i)}
		sp.node = soakNode(t, sp.seq.handle)
		defer func() { require.NoError(t, sp.node.Stop()) }()
		out, err := sp.node.Connect("127.0.0.1", hub.Port(), false)
		require.NoError(t, err)
		sp.out = out
		sp.in = hostileInboundWithID(t, hub, sp.node.ID())
		peers[i] = sp
	}

	var failMu sync.Mutex
	var failures []string
	fail := func(s string) {
		failMu.Lock()
		failures = append(failures, s)
		failMu.Unlock()
	}

	start := heapInuse()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, sp := range peers {
		wg.Go(func() {
			sp.sent = soakSend(sp.out, sp.name, 2000, func() int { return hubSeq.count(sp.name) }, stop, fail)
		})
		wg.Go(func() {
			sp.rsent = soakSend(sp.in, "hub", 2000, func() int { return sp.seq.count("hub") }, stop, fail)
		})
	}

	// Churn: peers join and leave in every way while the stable ones talk.
	var joins atomic.Int64
	churn := func(w int) {
		rng := rand.New(rand.NewPCG(uint64(w), 7))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			switch rng.IntN(4) {
			case 0, 1: // a node dials the hub, talks, stops (or disconnects)
				n := soakNode(t, nil)
				p, err := n.Connect("127.0.0.1", hub.Port(), false)
				if err == nil {
					joins.Add(1)
					for k := range rng.IntN(50) {
						_ = p.Send(p2p.Text("churn "+strconv.Itoa(k)), p2p.Compression(rng.IntN(4)))
					}
					if rng.IntN(2) == 0 {
						_ = n.Disconnect(p)
					}
				}
				_ = n.Stop()
			case 2: // the hub dials a node, broadcasts, drops it
				n := soakNode(t, nil)
				p, err := hub.Connect("127.0.0.1", n.Port(), rng.IntN(2) == 0)
				if err == nil {
					joins.Add(1)
					_ = hub.SendToNodes(p2p.Text("to all"), []*p2p.Peer{peers[0].in, peers[1].in, peers[2].in}, p2p.None)
					_ = hub.Disconnect(p)
				}
				_ = n.Stop()
			case 3: // a raw peer that sends half a frame and resets
				c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(hub.Port())), waitLimit)
				if err != nil {
					continue
				}
				_, _ = c.Write([]byte("raw-" + strconv.Itoa(w) + ":1"))
				_ = c.SetReadDeadline(time.Now().Add(waitLimit))
				if k, _ := c.Read(make([]byte, 4096)); k > 0 {
					joins.Add(1)
					_, _ = c.Write([]byte("raw churn\x04half a fra"))
				}
				hostileReset(c.(*net.TCPConn))
			}
		}
	}
	for w := range 3 {
		wg.Go(func() { churn(w) })
	}

	time.Sleep(length / 5) // the length of the run, not a synchronisation
	warm := heapInuse()
	time.Sleep(length - length/5)
	close(stop)
	wg.Wait()

	for _, sp := range peers {
		eventually(t, sp.name+" delivered", func() bool {
			return hubSeq.count(sp.name) == sp.sent && sp.seq.count("hub") == sp.rsent
		})
	}
	eventually(t, "churn peers gone", func() bool {
		return len(hub.Inbound()) == stable && len(hub.Outbound()) == 0
	})
	end := heapInuse()
	failMu.Lock()
	assert.Empty(t, failures)
	failMu.Unlock()
	assert.Empty(t, hubSeq.errors, "hub saw messages out of order")
	total := 0
	for _, sp := range peers {
		assert.Empty(t, sp.seq.errors, "%s saw messages out of order", sp.name)
		total += sp.sent + sp.rsent
	}
	t.Logf("%d numbered messages on stable connections, %d churn peers, %d churn messages at the hub; heap in use %d MiB before, %d MiB during, %d MiB after",
		total, joins.Load(), hubSeq.churn.Load(), start>>20, warm>>20, end>>20)
	assert.Greater(t, joins.Load(), int64(10), "churn happened")
	if end > start {
		assert.Less(t, end-start, uint64(64<<20), "heap grew by %d MiB over the run", (end-start)>>20)
	}
	assert.Empty(t, hub.Reconnecting(), "dropped peers are not reconnected")
}
