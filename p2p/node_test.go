package p2p_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"regexp"
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

func TestNodeIdentity(t *testing.T) {
	n := startNode(t, p2p.Config{}, &recorder{})
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{128}$`), n.ID(), "generated as the reference does")
	assert.NotZero(t, n.Port(), "port 0 picks a free port")
	assert.Equal(t, "127.0.0.1", n.Host())
	assert.Equal(t, "Node: 127.0.0.1:"+strconv.Itoa(n.Port()), n.String())

	named := startNode(t, p2p.Config{ID: "alice"}, &recorder{})
	assert.Equal(t, "alice", named.ID())

	_, err := p2p.New(p2p.Config{Port: 70000}, nil)
	assert.ErrorIs(t, err, p2p.ErrInvalidArgument)
	_, err = p2p.New(p2p.Config{ID: string(bytes.Repeat([]byte("x"), p2p.MaxIDLength+1))}, nil)
	assert.ErrorIs(t, err, p2p.ErrInvalidArgument)
	_, err = p2p.New(p2p.Config{Host: "127.0.0.1", Port: n.Port()}, nil)
	assert.Error(t, err, "port in use")
}

func TestLifecycleErrors(t *testing.T) {
	n, err := p2p.New(p2p.Config{Host: "127.0.0.1", DebugOutput: io.Discard}, nil)
	require.NoError(t, err)
	_, err = n.Connect("127.0.0.1", 1, false)
	assert.ErrorIs(t, err, p2p.ErrNotStarted)
	require.NoError(t, n.Start())
	assert.ErrorIs(t, n.Start(), p2p.ErrAlreadyStarted)
	require.NoError(t, n.Stop())
	require.NoError(t, n.Stop(), "stop is idempotent")
	assert.ErrorIs(t, n.Start(), p2p.ErrStopped)
	_, err = n.Connect("127.0.0.1", 1, false)
	assert.ErrorIs(t, err, p2p.ErrStopped)
	assert.NoError(t, n.Wait())
	select {
	case <-n.Done():
	default:
		t.Fatal("Done is not closed after Stop")
	}

	// A node that never started stops too.
	idle, err := p2p.New(p2p.Config{Host: "127.0.0.1"}, nil)
	require.NoError(t, err)
	require.NoError(t, idle.Stop())
}

func TestEventOrderAndFields(t *testing.T) {
	ra, rb := &recorder{}, &recorder{}
	a := startNode(t, p2p.Config{ID: "a"}, ra)
	b := startNode(t, p2p.Config{ID: "b"}, rb)
	out, in := pair(t, a, b)

	assert.Equal(t, "b", out.ID())
	assert.Equal(t, b.Port(), out.Port())
	assert.Equal(t, p2p.Outbound, out.Direction())
	assert.Equal(t, "a", in.ID())
	assert.Equal(t, a.Port(), in.Port(), "listening port from the handshake")
	assert.Equal(t, "127.0.0.1", in.Host())
	assert.Equal(t, p2p.Inbound, in.Direction())
	assert.Same(t, a, out.Node())

	for i := 0; i < 100; i++ {
		require.NoError(t, out.Send(p2p.Text(label(i)), p2p.None))
	}
	eventually(t, "100 messages", func() bool { return len(rb.messages()) == 100 })
	for i, m := range rb.messages() {
		require.Equal(t, label(i), m.Text(), "in order")
	}
	require.NoError(t, a.Disconnect(out))
	eventually(t, "disconnect events", func() bool {
		return len(ra.ofType(p2p.EventOutboundDisconnected)) == 1 && len(rb.ofType(p2p.EventInboundDisconnected)) == 1
	})
	assert.Equal(t, []p2p.EventType{p2p.EventOutboundConnected, p2p.EventDisconnectWithOutbound, p2p.EventOutboundDisconnected}, ra.types())
	bt := rb.types()
	assert.Equal(t, p2p.EventInboundConnected, bt[0])
	assert.Equal(t, p2p.EventInboundDisconnected, bt[len(bt)-1])
	assert.Empty(t, a.All())
	assert.Empty(t, b.All())
	_, ok := a.PeerByHandle(out.Handle())
	assert.False(t, ok, "handle forgotten after the disconnected event")

	require.NoError(t, b.Stop())
	assert.Equal(t, p2p.EventRequestToStop, rb.types()[len(rb.types())-1])
	assert.Equal(t, "node_request_to_stop", p2p.EventRequestToStop.String())
}

func TestPayloadsEveryKindAndCompression(t *testing.T) {
	rb := &recorder{}
	a := startNode(t, p2p.Config{}, &recorder{})
	b := startNode(t, p2p.Config{}, rb)
	out, _ := pair(t, a, b)
	dict, err := p2p.JSON(map[string]any{"name": "Maurice", "number": 11, "é": []int{1}})
	require.NoError(t, err)
	assert.Equal(t, `{"name": "Maurice", "number": 11, "\u00e9": [1]}`, string(dict))
	cases := []struct {
		name    string
		payload []byte
		kind    p2p.Kind
	}{
		{"text", p2p.Text("Hi there!"), p2p.KindText},
		{"unicode", p2p.Text("héllo wörld ✓ 𝄞"), p2p.KindText},
		{"dict", dict, p2p.KindJSON},
		{"number text is JSON", p2p.Text("123"), p2p.KindJSON},
		{"python NaN is JSON", p2p.Text("[NaN, -Infinity]"), p2p.KindJSON},
		{"bytes", []byte{0xff, 0xfe, 0x00, 0x80}, p2p.KindBytes},
		{"empty", []byte{}, p2p.KindText},
		{"holds EOT", []byte("a\x04b"), p2p.KindText},
		{"ends in 0x02", []byte("abc\x02"), p2p.KindText},
		{"only 0x02", []byte{0x02}, p2p.KindText},
		{"large", bytes.Repeat([]byte("0123456789abcdef"), 1<<16), p2p.KindText},
	}
	codecs := []p2p.Compression{p2p.None, p2p.Zlib, p2p.Bzip2, p2p.Lzma}
	for _, c := range codecs {
		for _, tc := range cases {
			require.NoError(t, out.Send(tc.payload, c), "%s/%v", tc.name, c)
		}
	}
	total := len(cases) * len(codecs)
	eventually(t, "every payload", func() bool { return len(rb.messages()) == total })
	msgs := rb.messages()
	for i, c := range codecs {
		for j, tc := range cases {
			m := msgs[i*len(cases)+j]
			assert.Equal(t, tc.payload, m.Data, "%s/%v arrives byte-identical", tc.name, c)
			assert.Equal(t, tc.kind, m.Kind, "%s/%v kind", tc.name, c)
			want := c
			if c == p2p.None && (len(tc.payload) == 0 || bytes.IndexByte(tc.payload, 4) >= 0 || tc.name == "ends in 0x02" || tc.name == "only 0x02") {
				want = p2p.Zlib // what raw framing cannot carry travels compressed
			}
			assert.Equal(t, want, m.Compression, "%s/%v codec", tc.name, c)
		}
	}
	assert.Equal(t, uint64(total), b.MessagesReceived())
	assert.Equal(t, uint64(total), a.MessagesSent())
	assert.Zero(t, b.ReceiveErrors())
}

func TestMessageValue(t *testing.T) {
	m := p2p.Message{Kind: p2p.KindJSON, Data: []byte(`{"a": [1, 2.5, "x"], "b": null}`)}
	v, ok := m.Value().(map[string]any)
	require.True(t, ok)
	assert.Equal(t, "x", v["a"].([]any)[2])
	var s struct{ A []any }
	require.NoError(t, m.Decode(&s))
	assert.Len(t, s.A, 3)
	assert.Equal(t, "hi", p2p.Message{Kind: p2p.KindText, Data: []byte("hi")}.Value())
	assert.Equal(t, []byte{0xff}, p2p.Message{Kind: p2p.KindBytes, Data: []byte{0xff}}.Value())
	assert.Error(t, p2p.Message{Kind: p2p.KindText, Data: []byte("nope")}.Decode(&s))
	_, err := p2p.JSON(func() {})
	assert.ErrorIs(t, err, p2p.ErrUnsupportedValue)
}

func TestBroadcastWithExclusions(t *testing.T) {
	rb, rc := &recorder{}, &recorder{}
	a := startNode(t, p2p.Config{}, &recorder{})
	b := startNode(t, p2p.Config{}, rb)
	c := startNode(t, p2p.Config{}, rc)
	_, _ = pair(t, a, b)
	toC, _ := pair(t, a, c)
	require.NoError(t, a.SendToNodes(p2p.Text("all"), nil, p2p.Bzip2))
	require.NoError(t, a.SendToNodes(p2p.Text("not c"), []*p2p.Peer{toC}, p2p.None))
	eventually(t, "b gets both", func() bool { return len(rb.messages()) == 2 })
	eventually(t, "c gets one", func() bool { return len(rc.messages()) == 1 })
	assert.Equal(t, "all", rc.messages()[0].Text())
	assert.Equal(t, "not c", rb.messages()[1].Text())
	assert.Equal(t, uint64(3), a.MessagesSent(), "a broadcast counts once per peer")
	assert.Len(t, a.Outbound(), 2)
	assert.Empty(t, a.Inbound())
	assert.Len(t, a.All(), 2)

	assert.ErrorIs(t, a.SendToNode(nil, nil, p2p.None), p2p.ErrUnknownPeer)
	assert.ErrorIs(t, b.SendToNode(toC, nil, p2p.None), p2p.ErrUnknownPeer, "a peer of another node")
	assert.ErrorIs(t, a.SendToNodes(nil, nil, p2p.Compression(9)), p2p.ErrInvalidArgument)
}

func TestSelfAndDuplicateConnect(t *testing.T) {
	ra, rb := &recorder{}, &recorder{}
	a := startNode(t, p2p.Config{}, ra)
	b := startNode(t, p2p.Config{}, rb)

	_, err := a.Connect("127.0.0.1", a.Port(), false)
	assert.ErrorIs(t, err, p2p.ErrSelfConnect, "own host and port")
	_, err = a.Connect("localhost", a.Port(), false)
	assert.ErrorIs(t, err, p2p.ErrSelfConnect, "own id answered")

	out, _ := pair(t, a, b)
	again, err := a.Connect("127.0.0.1", b.Port(), false)
	assert.ErrorIs(t, err, p2p.ErrAlreadyConnected)
	assert.Same(t, out, again)

	// b dialling back the node that is already connected with it.
	_, err = b.Connect("127.0.0.1", a.Port(), false)
	assert.ErrorIs(t, err, p2p.ErrAlreadyConnected)
	assert.Empty(t, b.Outbound())
	// a accepted before b decided to hang up, as a reference node would, and
	// sees that short-lived peer leave again.
	eventually(t, "no inbound peer kept on a", func() bool { return len(a.Inbound()) == 0 })

	_, err = a.Connect("", 1, false)
	assert.ErrorIs(t, err, p2p.ErrInvalidArgument)
	_, err = a.Connect("127.0.0.1", 0, false)
	assert.ErrorIs(t, err, p2p.ErrInvalidArgument)
	assert.Empty(t, ra.ofType(p2p.EventReconnectionError))
}

func TestConnectFailures(t *testing.T) {
	a := startNode(t, p2p.Config{Limits: p2p.Limits{HandshakeTimeout: 200 * time.Millisecond}}, &recorder{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	_, err = a.Connect("127.0.0.1", port, false)
	assert.Error(t, err, "nobody listens")

	// A peer that accepts and never answers: the handshake times out.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer silent.Close()
	go func() {
		c, err := silent.Accept()
		if err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	_, err = a.Connect("127.0.0.1", silent.Addr().(*net.TCPAddr).Port, false)
	assert.ErrorIs(t, err, p2p.ErrHandshake)
}

func TestMaxConnections(t *testing.T) {
	rb := &recorder{}
	b := startNode(t, p2p.Config{MaxConnections: 1}, rb)
	assert.Equal(t, 1, b.MaxConnections())
	a := startNode(t, p2p.Config{}, &recorder{})
	c := startNode(t, p2p.Config{}, &recorder{})
	pair(t, a, b)
	_, err := c.Connect("127.0.0.1", b.Port(), false)
	assert.ErrorIs(t, err, p2p.ErrRefused, "closed without a word over the limit")

	// A burst of raw connects beyond the limit never gets through.
	for i := 0; i < 200; i++ {
		conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port())))
		if err != nil {
			continue
		}
		_, _ = conn.Write([]byte("burst" + strconv.Itoa(i) + ":1"))
		conn.Close()
	}
	assert.Len(t, b.Inbound(), 1)
	require.NoError(t, b.SetMaxConnections(0))
	_, err = c.Connect("127.0.0.1", b.Port(), false)
	assert.NoError(t, err, "0 means unlimited")
	assert.ErrorIs(t, b.SetMaxConnections(-1), p2p.ErrInvalidArgument)
}

func TestReconnectAnsweredFalse(t *testing.T) {
	ra := &recorder{answer: func(int) bool { return false }}
	a := startNode(t, p2p.Config{Limits: p2p.Limits{ReconnectInterval: 10 * time.Millisecond}}, ra)
	b := startNode(t, p2p.Config{}, &recorder{})
	_, err := a.Connect("127.0.0.1", b.Port(), true)
	require.NoError(t, err)
	assert.Len(t, a.Reconnecting(), 1)
	require.NoError(t, b.Stop())
	eventually(t, "reconnection question", func() bool { return len(ra.ofType(p2p.EventReconnectionError)) == 1 })
	eventually(t, "given up", func() bool { return len(a.Reconnecting()) == 0 })
	q := ra.ofType(p2p.EventReconnectionError)[0]
	assert.Equal(t, "127.0.0.1", q.Host)
	assert.Equal(t, b.Port(), q.Port)
	assert.Equal(t, 1, q.Trials)
	assert.Nil(t, q.Peer)
}

func TestReconnectAnsweredTrue(t *testing.T) {
	var trialsSeen atomic.Int64
	ra := &recorder{answer: func(trials int) bool { trialsSeen.Store(int64(trials)); return true }}
	a := startNode(t, p2p.Config{Limits: p2p.Limits{ReconnectInterval: 10 * time.Millisecond}}, ra)
	b := startNode(t, p2p.Config{ID: "b"}, &recorder{})
	port := b.Port()
	_, err := a.Connect("127.0.0.1", port, true)
	require.NoError(t, err)
	require.NoError(t, b.Stop())
	eventually(t, "a few failed trials", func() bool { return trialsSeen.Load() >= 3 })

	b2 := startNode(t, p2p.Config{ID: "b2", Port: port}, &recorder{})
	eventually(t, "reconnected", func() bool { return len(a.Outbound()) == 1 })
	assert.Equal(t, "b2", a.Outbound()[0].ID())
	// Listed peers have their connected event queued, not yet handled.
	eventually(t, "the second connected event", func() bool { return len(ra.ofType(p2p.EventOutboundConnected)) == 2 })
	assert.Len(t, b2.Inbound(), 1)

	// Disconnecting on purpose ends the reconnecting.
	require.NoError(t, a.Disconnect(a.Outbound()[0]))
	assert.Empty(t, a.Reconnecting())
}

func TestDisconnect(t *testing.T) {
	ra, rb := &recorder{}, &recorder{}
	a := startNode(t, p2p.Config{}, ra)
	b := startNode(t, p2p.Config{}, rb)
	out, in := pair(t, a, b)

	// Inbound peers can be dropped too (the reference refuses); no
	// disconnect_with_outbound event for them.
	require.NoError(t, b.Disconnect(in))
	eventually(t, "both sides see it", func() bool {
		return len(rb.ofType(p2p.EventInboundDisconnected)) == 1 && len(ra.ofType(p2p.EventOutboundDisconnected)) == 1
	})
	assert.Empty(t, rb.ofType(p2p.EventDisconnectWithOutbound))
	assert.ErrorIs(t, a.Disconnect(out), p2p.ErrUnknownPeer, "already gone")
	assert.ErrorIs(t, out.Send(p2p.Text("late"), p2p.None), p2p.ErrPeerClosed)
	assert.ErrorIs(t, a.Disconnect(nil), p2p.ErrUnknownPeer)
}

func TestNothingAcceptedIsLostOnStop(t *testing.T) {
	rb := &recorder{}
	a := startNode(t, p2p.Config{}, &recorder{})
	b := startNode(t, p2p.Config{}, rb)
	out, _ := pair(t, a, b)
	const n = 20000
	for i := 0; i < n; i++ {
		require.NoError(t, out.Send(p2p.Text(label(i)), p2p.None))
	}
	require.NoError(t, a.Stop())
	eventually(t, "every queued message", func() bool { return len(rb.messages()) == n })
	for i, m := range rb.messages() {
		require.Equal(t, label(i), m.Text())
	}
}

func TestStopUnderTraffic(t *testing.T) {
	ra, rb := &recorder{}, &recorder{}
	a := startNode(t, p2p.Config{}, ra)
	b := startNode(t, p2p.Config{}, rb)
	out, in := pair(t, a, b)
	done := make(chan struct{})
	for _, p := range []*p2p.Peer{out, in} {
		go func(p *p2p.Peer) {
			defer func() { done <- struct{}{} }()
			for i := 0; ; i++ {
				if p.Send(p2p.Text(label(i)), p2p.Zlib) != nil {
					return
				}
			}
		}(p)
	}
	eventually(t, "traffic both ways", func() bool { return len(ra.messages()) > 100 && len(rb.messages()) > 100 })
	// b may still be sending when a goes: what it had queued then is lost
	// with the link, and its Stop says so when that happens meanwhile.
	for _, n := range []*p2p.Node{a, b} {
		if err := n.Stop(); err != nil {
			require.ErrorIs(t, err, p2p.ErrUndelivered)
		}
		c := n.Counters()
		assert.Equal(t, c.Accepted, c.Written+c.Dropped(), "%+v", c)
	}
	<-done
	<-done
	// goleak in TestMain checks that nothing is left running.
}

func TestHandlerCallsBackIntoNode(t *testing.T) {
	rb := &recorder{}
	var b *p2p.Node
	rb.onEv = func(ev *p2p.Event) {
		if ev.Type != p2p.EventMessage {
			return
		}
		switch ev.Message.Text() {
		case "echo":
			_ = ev.Peer.Send(p2p.Text("echoed"), p2p.None)
			_ = b.SendToNodes(p2p.Text("to all"), nil, p2p.None)
			_ = ev.Peer.Node().SendToNode(ev.Peer, p2p.Text("direct"), p2p.None)
		case "connect":
			_, _ = b.Connect("127.0.0.1", ev.Peer.Port(), false) // already connected: refused, no deadlock
		case "stop":
			assert.ErrorIs(t, b.Wait(), p2p.ErrHandlerInProgress)
			_ = b.Stop() // returns at once from inside the handler
		}
	}
	ra := &recorder{}
	a := startNode(t, p2p.Config{}, ra)
	b = startNode(t, p2p.Config{}, rb)
	out, _ := pair(t, a, b)
	for _, s := range []string{"echo", "connect", "stop"} {
		require.NoError(t, out.Send(p2p.Text(s), p2p.None))
	}
	select {
	case <-b.Done():
	case <-time.After(waitLimit):
		t.Fatal("stop from the handler did not finish")
	}
	eventually(t, "echoes", func() bool { return len(ra.messages()) == 3 })
	assert.Equal(t, p2p.EventRequestToStop, rb.ofType(p2p.EventRequestToStop)[0].Type)
}

func TestGoodbyeFromRequestToStop(t *testing.T) {
	ra := &recorder{}
	var b *p2p.Node
	rb := &recorder{onEv: func(ev *p2p.Event) {
		if ev.Type == p2p.EventRequestToStop {
			_ = b.SendToNodes(p2p.Text("bye"), nil, p2p.None)
		}
	}}
	a := startNode(t, p2p.Config{}, ra)
	b = startNode(t, p2p.Config{}, rb)
	pair(t, a, b)
	require.NoError(t, b.Stop())
	eventually(t, "goodbye", func() bool { return len(ra.messages()) == 1 })
	assert.Equal(t, "bye", ra.messages()[0].Text())
}

func TestHandlerPanicCostsOneEvent(t *testing.T) {
	var out bytes.Buffer
	rb := &recorder{onEv: func(ev *p2p.Event) {
		if ev.Type == p2p.EventMessage && ev.Message.Text() == "boom" {
			panic("user bug")
		}
	}}
	a := startNode(t, p2p.Config{}, &recorder{})
	b := startNode(t, p2p.Config{DebugOutput: &lockedWriter{w: &out}}, rb)
	p, _ := pair(t, a, b)
	require.NoError(t, p.Send(p2p.Text("boom"), p2p.None))
	require.NoError(t, p.Send(p2p.Text("after"), p2p.None))
	eventually(t, "message after the panic", func() bool {
		m := rb.messages()
		return len(m) == 1 && m[0].Text() == "after"
	})
	require.NoError(t, b.Stop())
	assert.Contains(t, out.String(), "panicked")
}

type embedded struct {
	p2p.BaseHandler
	got chan string
}

func (e *embedded) NodeMessage(p *p2p.Peer, m p2p.Message) { e.got <- p.ID() + ":" + m.Text() }

func TestHandlerInterfaceStyle(t *testing.T) {
	h := &embedded{got: make(chan string, 1)}
	b, err := p2p.New(p2p.Config{Host: "127.0.0.1", DebugOutput: io.Discard}, h)
	require.NoError(t, err)
	require.NoError(t, b.Start())
	defer b.Stop()
	a := startNode(t, p2p.Config{ID: "sender"}, nil)
	p, _ := pair(t, a, b)
	require.NoError(t, p.Send(p2p.Text("hi"), p2p.None))
	select {
	case s := <-h.got:
		assert.Equal(t, "sender:hi", s)
	case <-time.After(waitLimit):
		t.Fatal("no message")
	}
}

func TestPeerInfo(t *testing.T) {
	a := startNode(t, p2p.Config{}, &recorder{})
	b := startNode(t, p2p.Config{}, &recorder{})
	out, _ := pair(t, a, b)
	_, ok := out.Info("ping")
	assert.False(t, ok)
	out.SetInfo("ping", 0.25)
	out.SetInfo("name", "bob")
	v, ok := out.Info("ping")
	assert.True(t, ok)
	assert.Equal(t, 0.25, v)
	assert.ElementsMatch(t, []string{"ping", "name"}, out.InfoKeys())
	assert.Contains(t, out.String(), "NodeConnection: 127.0.0.1:")
}

func TestDebugOutput(t *testing.T) {
	var out bytes.Buffer
	w := &lockedWriter{w: &out}
	a := startNode(t, p2p.Config{ID: "dbg", Debug: true, DebugOutput: w}, &recorder{})
	assert.True(t, a.Debug())
	b := startNode(t, p2p.Config{}, &recorder{})
	pair(t, a, b)
	require.NoError(t, a.Stop())
	assert.Contains(t, w.String(), "DEBUG (dbg): ")
	a.SetDebug(false)
	assert.False(t, a.Debug())
}

func TestConfigAndLimits(t *testing.T) {
	n, err := p2p.New(p2p.Config{Host: "127.0.0.1"}, nil)
	require.NoError(t, err)
	defer n.Stop()
	l := n.Limits()
	assert.Equal(t, p2p.DefaultMaxFrameSize, l.MaxFrameSize)
	assert.Equal(t, p2p.DefaultHandshakeTimeout, l.HandshakeTimeout)
	require.NoError(t, n.SetLimits(p2p.Limits{MaxFrameSize: 1234}))
	assert.Equal(t, 1234, n.Limits().MaxFrameSize)
	assert.Equal(t, p2p.DefaultMaxQueuedBytes, n.Limits().MaxQueuedBytes, "zero takes the default")
	require.NoError(t, n.Start())
	assert.ErrorIs(t, n.SetLimits(p2p.Limits{}), p2p.ErrAlreadyStarted)
}

func TestFrameSizeLimit(t *testing.T) {
	rb := &recorder{}
	a := startNode(t, p2p.Config{}, &recorder{})
	b := startNode(t, p2p.Config{Limits: p2p.Limits{MaxFrameSize: 1024}}, rb)
	out, _ := pair(t, a, b)
	require.NoError(t, out.Send(bytes.Repeat([]byte("x"), 1000), p2p.None))
	require.NoError(t, out.Send(bytes.Repeat([]byte("y"), 5000), p2p.None))
	eventually(t, "oversize sender dropped", func() bool { return len(rb.ofType(p2p.EventInboundDisconnected)) == 1 })
	assert.Len(t, rb.messages(), 1, "what came before the bad frame was delivered")
	assert.Equal(t, uint64(1), b.ReceiveErrors())

	small := startNode(t, p2p.Config{Limits: p2p.Limits{MaxFrameSize: 10}}, &recorder{})
	p, _ := pair(t, small, startNode(t, p2p.Config{}, &recorder{}))
	assert.ErrorIs(t, p.Send(bytes.Repeat([]byte("z"), 11), p2p.None), p2p.ErrMessageTooLarge)
}

func TestDecompressionBombCostsOneMessage(t *testing.T) {
	rb := &recorder{}
	a := startNode(t, p2p.Config{}, &recorder{})
	b := startNode(t, p2p.Config{Limits: p2p.Limits{MaxDecompressedSize: 1 << 16}}, rb)
	out, _ := pair(t, a, b)
	for _, c := range []p2p.Compression{p2p.Zlib, p2p.Bzip2, p2p.Lzma} {
		require.NoError(t, out.Send(make([]byte, 8<<20), c), "8 MiB of zeros compress to a few KiB")
	}
	require.NoError(t, out.Send(p2p.Text("still here"), p2p.None))
	eventually(t, "next message", func() bool { return len(rb.messages()) == 1 })
	assert.Equal(t, "still here", rb.messages()[0].Text())
	assert.Equal(t, uint64(3), b.ReceiveErrors())
	assert.Len(t, b.Inbound(), 1, "the connection survives")
}

func TestHandshakeTimeoutOnSilentPeer(t *testing.T) {
	b := startNode(t, p2p.Config{Limits: p2p.Limits{HandshakeTimeout: 100 * time.Millisecond}}, &recorder{})
	conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port())))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(waitLimit)))
	// The node greets first (its id, see p2p/native), then hangs up.
	_, err = io.ReadAll(conn)
	assert.NoError(t, err, "the node hangs up on a peer that never sends its id")
	assert.Empty(t, b.Inbound())
}

func TestBackpressureOnFullSendQueue(t *testing.T) {
	// A peer that completes the handshake and then reads nothing.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = c.Read(make([]byte, 4096))
		_, _ = c.Write([]byte("sleeper"))
		accepted <- c
	}()
	a := startNode(t, p2p.Config{Limits: p2p.Limits{MaxQueuedBytes: 64 << 10, SendTimeout: 20 * time.Millisecond}}, &recorder{})
	p, err := a.Connect("127.0.0.1", ln.Addr().(*net.TCPAddr).Port, false)
	require.NoError(t, err)
	c := <-accepted
	defer c.Close()
	chunk := bytes.Repeat([]byte("q"), 16<<10)
	var sendErr error
	for i := 0; i < 100000 && sendErr == nil; i++ {
		sendErr = p.Send(chunk, p2p.None)
	}
	assert.ErrorIs(t, sendErr, p2p.ErrQueueFull, "sends fail instead of queueing without bound")
	// Stop does not hang on a peer that reads nothing; what it could not
	// write is reported, and the counters add up.
	if err := a.Stop(); err != nil {
		var u *p2p.UndeliveredError
		require.ErrorAs(t, err, &u)
		assert.NotZero(t, u.Messages)
	}
	ac := a.Counters()
	assert.Equal(t, ac.Accepted, ac.Written+ac.Dropped(), "%+v", ac)
	assert.Zero(t, ac.Queued)
}

func TestSlowHandlerLosesNothing(t *testing.T) {
	var seen atomic.Int64
	rb := &recorder{onEv: func(ev *p2p.Event) {
		if ev.Type == p2p.EventMessage && seen.Add(1)%100 == 0 {
			time.Sleep(time.Millisecond) // a slow application
		}
	}}
	a := startNode(t, p2p.Config{}, &recorder{})
	b := startNode(t, p2p.Config{Limits: p2p.Limits{MaxPendingEvents: 8}}, rb)
	out, _ := pair(t, a, b)
	const n = 5000
	for i := 0; i < n; i++ {
		require.NoError(t, out.Send(p2p.Text(label(i)), p2p.None))
	}
	eventually(t, "all messages", func() bool { return len(rb.messages()) == n })
	for i, m := range rb.messages() {
		require.Equal(t, label(i), m.Text())
	}
}

func TestManyNodesRing(t *testing.T) {
	const size = 8
	recs := make([]*recorder, size)
	nodes := make([]*p2p.Node, size)
	for i := range nodes {
		recs[i] = &recorder{}
		nodes[i] = startNode(t, p2p.Config{ID: "n" + strconv.Itoa(i)}, recs[i])
	}
	for i, n := range nodes {
		_, err := n.Connect("127.0.0.1", nodes[(i+1)%size].Port(), false)
		require.NoError(t, err)
	}
	for _, n := range nodes {
		eventually(t, "ring closed", func() bool { return len(n.All()) == 2 })
		require.NoError(t, n.SendToNodes(p2p.Text("hello from "+n.ID()), nil, p2p.None))
	}
	for i := range nodes {
		eventually(t, "two greetings", func() bool { return len(recs[i].messages()) == 2 })
	}
}

func TestErrorsWrapSentinels(t *testing.T) {
	a := startNode(t, p2p.Config{}, &recorder{})
	_, err := a.Connect("127.0.0.1", a.Port(), false)
	var target interface{ Unwrap() error }
	assert.True(t, errors.As(err, &target) || errors.Is(err, p2p.ErrSelfConnect))
	assert.Contains(t, err.Error(), "127.0.0.1")
}

// lockedWriter lets the test read debug output that the node writes from
// its goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// TestHandlerPanicMidBatchCostsOneEvent: messages that arrive together
// reach the handler as one batch of records; a panic on one of them costs
// that one alone, and the rest of the batch follows in order, each event
// whole (the handler's writes to the one before do not carry over).
func TestHandlerPanicMidBatchCostsOneEvent(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	var got []string
	rb := &recorder{onEv: func(ev *p2p.Event) {
		if ev.Type != p2p.EventMessage {
			return
		}
		if ev.Topic != "" || ev.Host != "" || ev.Port != 0 || ev.Counters != nil {
			panic("an event carried a field over")
		}
		mu.Lock()
		got = append(got, ev.Message.Text())
		mu.Unlock()
		ev.Topic, ev.Host, ev.Port = "scribbled", "scribbled", 1 // the node must not see these again
		if ev.Message.Text() == "boom" {
			panic("user bug")
		}
	}}
	a := startNode(t, p2p.Config{}, &recorder{})
	b := startNode(t, p2p.Config{DebugOutput: &lockedWriter{w: &out}}, rb)
	p, _ := pair(t, a, b)
	var batch [][]byte
	var want []string
	for i := range 3000 {
		s := label(i)
		if i%1000 == 500 {
			s = "boom"
		}
		batch = append(batch, []byte(s))
		want = append(want, s)
	}
	_, err := p.SendMany(batch, p2p.None)
	require.NoError(t, err)
	eventually(t, "every message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == len(want)
	})
	mu.Lock()
	assert.Equal(t, want, got)
	mu.Unlock()
	require.NoError(t, b.Stop())
	assert.Equal(t, 3, strings.Count(out.String(), "panicked"))
}
