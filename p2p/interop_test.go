package p2p_test

// Wire interoperability with p2pnetwork 1.2, over real loopback sockets.
//
// Two kinds of Python peer are driven from here:
//   - testdata/refpeer.py, a scriptable peer that follows WIRE.md and decodes
//     frames by the reference's rules (stdlib only). It can do what a
//     p2pnetwork node does on the wire and a few things it would do only by
//     accident (an id glued to a message, odd hellos, an empty frame).
//   - testdata/p2pnetwork_driver.py, which runs a real p2pnetwork Node.
//
// The tests fail when python3 or p2pnetwork 1.2 is missing (run `make deps`),
// unless P2PNODE_SKIP_INTEROP=1 is set.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// ioWait bounds every wait for an event; nothing here depends on timing
// otherwise.
const ioWait = 10 * time.Second

// ---------------------------------------------------------------------------
// Python prerequisites

var pyEnv struct {
	once      sync.Once
	python    string
	pythonErr error
	p2pnetErr error
}

func checkPython() {
	py := os.Getenv("PYTHON")
	if py == "" {
		py = "python3"
	}
	path, err := exec.LookPath(py)
	if err != nil {
		pyEnv.pythonErr = err
		pyEnv.p2pnetErr = err
		return
	}
	pyEnv.python = path
	out, err := exec.Command(path, "-c",
		"import importlib.metadata as m, p2pnetwork.node; print(m.version('p2pnetwork'))").CombinedOutput()
	switch {
	case err != nil:
		pyEnv.p2pnetErr = fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
	case strings.TrimSpace(string(out)) != "1.2":
		pyEnv.p2pnetErr = fmt.Errorf("p2pnetwork %s is installed, the tests need 1.2", bytes.TrimSpace(out))
	}
}

// needPython fails the test (or skips it with P2PNODE_SKIP_INTEROP=1) when
// python3, or with p2pnetwork also the p2pnetwork package, is missing.
func needPython(t *testing.T, p2pnetwork bool) string {
	t.Helper()
	if os.Getenv("P2PNODE_SKIP_INTEROP") == "1" {
		t.Skip("P2PNODE_SKIP_INTEROP=1: interop tests skipped")
	}
	pyEnv.once.Do(checkPython)
	if pyEnv.pythonErr != nil {
		t.Fatalf("the interop tests need python3 (%v): run `make deps` (or set P2PNODE_SKIP_INTEROP=1 to skip them)", pyEnv.pythonErr)
	}
	if p2pnetwork && pyEnv.p2pnetErr != nil {
		t.Fatalf("the interop tests need the Python package p2pnetwork==1.2 (%v): run `make deps` (or set P2PNODE_SKIP_INTEROP=1 to skip them)", pyEnv.p2pnetErr)
	}
	return pyEnv.python
}

// ---------------------------------------------------------------------------
// A Python process driven by JSON lines

// pyEvent is one JSON line a Python peer reported.
type pyEvent map[string]any

func (e pyEvent) str(k string) string {
	s, _ := e[k].(string)
	return s
}

func (e pyEvent) num(k string) int {
	f, _ := e[k].(float64)
	return int(f)
}

func (e pyEvent) flag(k string) bool {
	b, _ := e[k].(bool)
	return b
}

func (e pyEvent) bytes(t *testing.T, k string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(e.str(k))
	require.NoError(t, err, "field %q of %v", k, e)
	return b
}

func (e pyEvent) String() string {
	b, _ := json.Marshal(map[string]any(e))
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

type ioBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *ioBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *ioBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type pyProc struct {
	name   string
	prefix string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr ioBuffer
	done   chan struct{} // closed when stdout ends

	inMu sync.Mutex
	tag  int

	mu      sync.Mutex
	events  []pyEvent
	changed chan struct{} // closed and replaced on every new event
	exited  bool
}

// startPy runs testdata/<script>; protocol lines are those that start with
// prefix. The process is told to quit, or killed, when the test ends.
func startPy(t *testing.T, script, prefix string, p2pnetwork bool) *pyProc {
	t.Helper()
	python := needPython(t, p2pnetwork)
	p := &pyProc{name: script, prefix: prefix, done: make(chan struct{}), changed: make(chan struct{})}
	p.cmd = exec.Command(python, "-u", filepath.Join("testdata", script))
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	p.stdin, err = p.cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	go p.readLoop(stdout)
	t.Cleanup(func() { p.close(t) })
	return p
}

func (p *pyProc) readLoop(stdout io.Reader) {
	defer close(p.done)
	r := bufio.NewReaderSize(stdout, 1<<16)
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			p.handleLine(line)
		}
		if err != nil {
			break
		}
	}
	p.mu.Lock()
	p.exited = true
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

func (p *pyProc) handleLine(line []byte) {
	body, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte(p.prefix))
	var ev pyEvent
	if !ok || json.Unmarshal(body, &ev) != nil {
		fmt.Fprintf(&p.stderr, "[stdout] %s", line)
		return
	}
	p.mu.Lock()
	p.events = append(p.events, ev)
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

func (p *pyProc) close(t *testing.T) {
	p.inMu.Lock()
	_, _ = io.WriteString(p.stdin, `{"cmd": "quit"}`+"\n")
	_ = p.stdin.Close()
	p.inMu.Unlock()
	select {
	case <-p.done:
	case <-time.After(ioWait):
		t.Errorf("%s did not quit; killed", p.name)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	_ = p.cmd.Wait()
	if t.Failed() {
		if s := p.stderr.String(); s != "" {
			t.Logf("%s stderr/extra output:\n%s", p.name, ioTail(s, 4000))
		}
	}
}

func ioTail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// post sends a command without waiting; it returns the command's tag.
func (p *pyProc) post(t *testing.T, cmd map[string]any) string {
	t.Helper()
	p.inMu.Lock()
	defer p.inMu.Unlock()
	p.tag++
	tag := strconv.Itoa(p.tag)
	cmd["tag"] = tag
	b, err := json.Marshal(cmd)
	require.NoError(t, err)
	_, err = p.stdin.Write(append(b, '\n'))
	require.NoError(t, err, "write a command to %s", p.name)
	return tag
}

// answer waits for the answer to the command tagged tag, which must be want.
func (p *pyProc) answer(t *testing.T, tag, want string) pyEvent {
	t.Helper()
	ev := p.wait(t, "answer "+want+" to command "+tag, func(e pyEvent) bool { return e.str("tag") == tag })
	require.Equal(t, want, ev.str("ev"), "%s answered %v", p.name, ev)
	return ev
}

// do sends a command and waits for its answer, which must be want.
func (p *pyProc) do(t *testing.T, cmd map[string]any, want string) pyEvent {
	t.Helper()
	return p.answer(t, p.post(t, cmd), want)
}

// wait takes the first reported event that matches, waiting for it up to
// ioWait.
func (p *pyProc) wait(t *testing.T, desc string, match func(pyEvent) bool) pyEvent {
	t.Helper()
	timer := time.NewTimer(ioWait)
	defer timer.Stop()
	for {
		p.mu.Lock()
		for i, ev := range p.events {
			if match(ev) {
				p.events = append(p.events[:i:i], p.events[i+1:]...)
				p.mu.Unlock()
				return ev
			}
		}
		exited, changed := p.exited, p.changed
		p.mu.Unlock()
		if exited {
			t.Fatalf("%s exited while waiting for %s; stderr:\n%s", p.name, desc, ioTail(p.stderr.String(), 4000))
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("%s: no %s within %v; pending events: %v", p.name, desc, ioWait, p.pending())
		}
	}
}

// find reports the reported events, not yet taken, that match.
func (p *pyProc) find(match func(pyEvent) bool) []pyEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []pyEvent
	for _, ev := range p.events {
		if match(ev) {
			out = append(out, ev)
		}
	}
	return out
}

func (p *pyProc) pending() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.events))
	for _, ev := range p.events {
		out = append(out, ev.String())
	}
	return out
}

func isPyEv(name, conn string) func(pyEvent) bool {
	return func(e pyEvent) bool { return e.str("ev") == name && (conn == "" || e.str("conn") == conn) }
}

// isOurClose matches how a Python peer sees us close conn: on Linux a reset
// (the reference drops a reset connection, it never notices a FIN), elsewhere
// the end of the stream.
func isOurClose(conn string) func(pyEvent) bool {
	if runtime.GOOS != "linux" {
		return isPyEv("eof", conn)
	}
	return func(e pyEvent) bool {
		return isPyEv("error", conn)(e) && strings.Contains(e.str("error"), "reset")
	}
}

// ---------------------------------------------------------------------------
// refpeer.py

type refPeer struct{ *pyProc }

func startRefPeer(t *testing.T) refPeer {
	return refPeer{startPy(t, "refpeer.py", "", false)}
}

func (r refPeer) listen(t *testing.T) int {
	t.Helper()
	port := r.do(t, map[string]any{"cmd": "listen", "host": "127.0.0.1"}, "listening").num("port")
	require.NotZero(t, port)
	return port
}

// connect makes conn dial port and say hello as id with its listening port
// announce; the answer is "connected" or "refused".
func (r refPeer) connect(t *testing.T, conn string, port int, id string, announce int) pyEvent {
	t.Helper()
	return r.do(t, map[string]any{"cmd": "connect", "conn": conn, "port": port, "id": id, "announce": announce}, "connected")
}

// send sends a payload as p2pnetwork does; kind is str, dict or bytes (data
// []byte). It returns the payload bytes that went out.
func (r refPeer) send(t *testing.T, conn, kind string, data any, compression string) []byte {
	t.Helper()
	if b, ok := data.([]byte); ok {
		data = base64.StdEncoding.EncodeToString(b)
	}
	ev := r.do(t, map[string]any{"cmd": "send", "conn": conn, "kind": kind, "data": data, "compression": compression}, "sent")
	return ev.bytes(t, "payload")
}

func (r refPeer) sendBytes(t *testing.T, conn string, payload []byte, compression string) {
	t.Helper()
	got := r.send(t, conn, "bytes", payload, compression)
	require.Equal(t, payload, got)
}

func (r refPeer) sendRaw(t *testing.T, conn string, raw []byte) {
	t.Helper()
	r.do(t, map[string]any{"cmd": "sendraw", "conn": conn, "data": base64.StdEncoding.EncodeToString(raw)}, "sent")
}

func (r refPeer) message(t *testing.T, conn string) pyEvent {
	t.Helper()
	return r.wait(t, "message on "+conn, func(e pyEvent) bool {
		switch e.str("ev") {
		case "message", "stalled", "fatal", "eof", "error":
			return e.str("conn") == conn
		}
		return false
	})
}

// requireMessage takes the next message of conn and checks its bytes.
func (r refPeer) requireMessage(t *testing.T, conn string, payload []byte) pyEvent {
	t.Helper()
	ev := r.message(t, conn)
	require.Equal(t, "message", ev.str("ev"), "refpeer: %v", ev)
	got := ev.bytes(t, "payload")
	if len(payload) > 256 {
		require.True(t, bytes.Equal(payload, got), "refpeer received %d bytes, want %d (identical)", len(got), len(payload))
	} else {
		require.Equal(t, payload, got, "refpeer received other bytes")
	}
	require.Empty(t, ev.str("decompress_error"))
	return ev
}

// accept makes the refpeer accept one connection as conn, replying with id
// followed, in the same write, by first (if any). It returns the command's
// tag; the answer comes once someone has connected.
func (r refPeer) accept(t *testing.T, conn, id string, first []byte) string {
	t.Helper()
	cmd := map[string]any{"cmd": "accept", "conn": conn, "id": id}
	if first != nil {
		cmd["first"] = base64.StdEncoding.EncodeToString(first)
	}
	return r.post(t, cmd)
}

// ---------------------------------------------------------------------------
// Our nodes

type ioRecorder struct {
	mu      sync.Mutex
	events  []p2p.Event
	all     []p2p.Event
	changed chan struct{}
}

func (r *ioRecorder) handle(ev *p2p.Event) bool {
	r.mu.Lock()
	r.events = append(r.events, *ev)
	r.all = append(r.all, *ev)
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	return false // never reconnect
}

// wait takes the first event that matches, waiting up to ioWait.
func (r *ioRecorder) wait(t *testing.T, desc string, match func(*p2p.Event) bool) p2p.Event {
	t.Helper()
	timer := time.NewTimer(ioWait)
	defer timer.Stop()
	for {
		r.mu.Lock()
		for i := range r.events {
			if match(&r.events[i]) {
				ev := r.events[i]
				r.events = append(r.events[:i:i], r.events[i+1:]...)
				r.mu.Unlock()
				return ev
			}
		}
		changed := r.changed
		var pending []string
		for _, ev := range r.events {
			pending = append(pending, ioDescribe(ev))
		}
		r.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("node: no %s within %v; pending events: %v", desc, ioWait, pending)
		}
	}
}

// history lists every event the node delivered so far, in order.
func (r *ioRecorder) history() []p2p.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]p2p.Event(nil), r.all...)
}

func (r *ioRecorder) count(match func(*p2p.Event) bool) int {
	n := 0
	for _, ev := range r.history() {
		if match(&ev) {
			n++
		}
	}
	return n
}

func ioDescribe(ev p2p.Event) string {
	s := ev.Type.String()
	if ev.Peer != nil {
		s += " " + ioShort(ev.Peer.ID())
	}
	if ev.Type == p2p.EventMessage {
		s += fmt.Sprintf(" %v %d bytes %q", ev.Message.Kind, len(ev.Message.Data), ioShort(string(ev.Message.Data)))
	}
	return s
}

func ioShort(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}

func ioEvType(typ p2p.EventType, id string) func(*p2p.Event) bool {
	return func(ev *p2p.Event) bool {
		return ev.Type == typ && (id == "" || ev.Peer != nil && ev.Peer.ID() == id)
	}
}

func (r *ioRecorder) connected(t *testing.T, typ p2p.EventType, id string) *p2p.Peer {
	t.Helper()
	return r.wait(t, typ.String()+" of "+ioShort(id), ioEvType(typ, id)).Peer
}

// message takes the next message from peer p.
func (r *ioRecorder) message(t *testing.T, p *p2p.Peer) p2p.Message {
	t.Helper()
	return r.wait(t, "message from "+ioShort(p.ID()), func(ev *p2p.Event) bool {
		return ev.Type == p2p.EventMessage && ev.Peer == p
	}).Message
}

func (r *ioRecorder) requireMessage(t *testing.T, p *p2p.Peer, payload []byte, kind p2p.Kind, c p2p.Compression) p2p.Message {
	t.Helper()
	m := r.message(t, p)
	if len(payload) > 256 {
		require.True(t, bytes.Equal(payload, m.Data), "node received %d bytes, want %d (identical)", len(m.Data), len(payload))
	} else {
		require.Equal(t, payload, m.Data, "node received other bytes")
	}
	require.Equal(t, kind, m.Kind, "kind of %q", ioShort(string(payload)))
	require.Equal(t, c, m.Compression)
	return m
}

// startIONode starts a node on 127.0.0.1, port 0, that records its events.
func startIONode(t *testing.T, cfg p2p.Config) (*p2p.Node, *ioRecorder) {
	t.Helper()
	cfg.Host = "127.0.0.1"
	cfg.Port = 0
	rec := &ioRecorder{changed: make(chan struct{})}
	n, err := p2p.NewWithCallback(cfg, rec.handle)
	require.NoError(t, err)
	require.NoError(t, n.Start())
	t.Cleanup(func() { _ = n.Stop() })
	return n, rec
}

// ---------------------------------------------------------------------------
// Payloads

var ioCodecs = []struct {
	name string
	c    p2p.Compression
}{{"none", p2p.None}, {"zlib", p2p.Zlib}, {"bzip2", p2p.Bzip2}, {"lzma", p2p.Lzma}}

// ioNotUTF8 is a bytes payload the reference cannot decode as text.
var ioNotUTF8 = []byte{0xff, 0xfe, 0x00, 0x80, 'a', 0x02, 'b', 0xc3}

var (
	ioBigOnce sync.Once
	ioBigAny  []byte // 1 MiB of random bytes, 0x04 included
	ioBigRaw  []byte // 1 MiB that raw framing carries: no 0x04, no 0x02
)

func ioBigPayloads() ([]byte, []byte) {
	ioBigOnce.Do(func() {
		r := rand.New(rand.NewPCG(1, 2))
		ioBigAny = make([]byte, 1<<20)
		ioBigRaw = make([]byte, 1<<20)
		for i := range ioBigAny {
			ioBigAny[i] = byte(r.Uint32())
			// Text-like but not compressible to nothing: letters and
			// non-ASCII bytes, so it is not UTF-8 either.
			ioBigRaw[i] = "abcdefghijklmnopqrstuvwxyz \n\xff\xfe"[r.IntN(30)]
		}
	})
	return ioBigAny, ioBigRaw
}

type ioPayload struct {
	name string
	data []byte
}

// ioAwkward lists the payloads that raw framing cannot carry exactly, and
// some that it can but that come close.
func ioAwkward(large bool) []ioPayload {
	list := []ioPayload{
		{"empty", []byte{}},
		{"lone EOT", []byte{0x04}},
		{"holding EOT", []byte("one\x04two\x04")},
		{"first 0x02 is last byte", []byte("abc\x02")},
		{"lone 0x02", []byte{0x02}},
		{"ends in 0x02 twice", []byte("ab\x02\x02")},
		{"0x02 inside and last", []byte("a\x02b\x02")},
		{"base64 text ending in 0x02", []byte("aGVsbG8=\x02")},
		{"not UTF-8 with EOT and 0x02", []byte{0xff, 0x04, 0xfe, 0x02}},
	}
	if large {
		a, r := ioBigPayloads()
		list = append(list, ioPayload{"1 MiB random", a}, ioPayload{"1 MiB raw-safe", r})
	}
	return list
}

// ---------------------------------------------------------------------------
// refpeer: handshake

func TestInteropHandshakeReferenceDials(t *testing.T) {
	t.Parallel()
	ref := startRefPeer(t)
	refPort := ref.listen(t)
	node, rec := startIONode(t, p2p.Config{})
	require.Len(t, node.ID(), 128, "a generated id is 128 hex characters, as the reference's")

	ev := ref.connect(t, "c1", node.Port(), "ref-dialler", refPort)
	assert.Equal(t, node.ID(), ev.str("peer_id"), "the refpeer reads our id with one recv, whole")

	p := rec.connected(t, p2p.EventInboundConnected, "ref-dialler")
	assert.Equal(t, "ref-dialler", p.ID())
	assert.Equal(t, refPort, p.Port(), "an inbound peer's port is the listening port of its hello")
	assert.Equal(t, "127.0.0.1", p.Host())
	assert.Equal(t, p2p.Inbound, p.Direction())
	require.Len(t, node.Inbound(), 1)
	assert.Empty(t, node.Outbound())
}

func TestInteropHandshakeWeDial(t *testing.T) {
	t.Parallel()
	ref := startRefPeer(t)
	refPort := ref.listen(t)
	node, rec := startIONode(t, p2p.Config{ID: "go-dialler"})
	refID := p2p.GenerateID("127.0.0.1", refPort)

	tag := ref.accept(t, "c1", refID, nil)
	p, err := node.Connect("127.0.0.1", refPort, false)
	require.NoError(t, err)
	hello := ref.wait(t, "hello", isPyEv("hello", "c1"))
	ref.answer(t, tag, "accepted")

	assert.Equal(t, "go-dialler:"+strconv.Itoa(node.Port()), string(hello.bytes(t, "raw")), "our hello is <id>:<listening port>, in one write")
	assert.Equal(t, "go-dialler", hello.str("id"))
	assert.Equal(t, strconv.Itoa(node.Port()), hello.str("port"))
	assert.True(t, hello.flag("port_from_hello"))

	assert.Equal(t, refID, p.ID())
	assert.Equal(t, refPort, p.Port())
	assert.Equal(t, p2p.Outbound, p.Direction())
	assert.Same(t, p, rec.connected(t, p2p.EventOutboundConnected, refID))

	// The connection carries messages both ways.
	require.NoError(t, p.Send(p2p.Text("ping"), p2p.None))
	ref.requireMessage(t, "c1", []byte("ping"))
	ref.send(t, "c1", "str", "pong", "none")
	rec.requireMessage(t, p, []byte("pong"), p2p.KindText, p2p.None)
}

func TestInteropHelloVariants(t *testing.T) {
	t.Parallel()
	ref := startRefPeer(t)
	node, rec := startIONode(t, p2p.Config{})
	cases := []struct {
		name, hello, id string
		port            int // 0: the source port
	}{
		{"without port", "bare-id", "bare-id", 0},
		{"two colons", "a:b:9000", "a:b:9000", 0},
		{"port not a number", "some-id:http", "some-id", 0},
		{"id and port", "with-port:4321", "with-port", 4321},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := "h" + strconv.Itoa(i)
			ev := ref.do(t, map[string]any{"cmd": "connect", "conn": conn, "port": node.Port(), "hello": tc.hello}, "connected")
			assert.Equal(t, node.ID(), ev.str("peer_id"))
			p := rec.connected(t, p2p.EventInboundConnected, tc.id)
			want := tc.port
			if want == 0 {
				want = ev.num("local_port")
			}
			assert.Equal(t, want, p.Port())
			ref.send(t, conn, "str", "after "+tc.name, "none")
			rec.requireMessage(t, p, []byte("after "+tc.name), p2p.KindText, p2p.None)
		})
	}
}

// ---------------------------------------------------------------------------
// refpeer: messages

// refPeerPair connects a refpeer to a fresh node (the refpeer dials) and
// returns both ends.
func refPeerPair(t *testing.T, cfg p2p.Config) (refPeer, *p2p.Node, *ioRecorder, *p2p.Peer) {
	t.Helper()
	ref := startRefPeer(t)
	node, rec := startIONode(t, cfg)
	ref.connect(t, "c1", node.Port(), "refpeer", 1)
	p := rec.connected(t, p2p.EventInboundConnected, "refpeer")
	return ref, node, rec, p
}

func TestInteropMessagesFromReference(t *testing.T) {
	t.Parallel()
	ref, _, rec, p := refPeerPair(t, p2p.Config{})
	dict := map[string]any{"z": 1, "a": []any{1, 2.5, "é"}, "nested": map[string]any{"k": nil}}
	for _, cc := range ioCodecs {
		t.Run(cc.name, func(t *testing.T) {
			payload := ref.send(t, "c1", "str", "héllo from python ✓", cc.name)
			require.Equal(t, []byte("héllo from python ✓"), payload)
			rec.requireMessage(t, p, payload, p2p.KindText, cc.c)

			payload = ref.send(t, "c1", "dict", dict, cc.name)
			m := rec.requireMessage(t, p, payload, p2p.KindJSON, cc.c)
			var got map[string]any
			require.NoError(t, m.Decode(&got))
			assert.Equal(t, "é", got["a"].([]any)[2])

			rec.requireMessage(t, p, ref.send(t, "c1", "bytes", ioNotUTF8, cc.name), p2p.KindBytes, cc.c)
		})
	}
}

func TestInteropMessagesToReference(t *testing.T) {
	t.Parallel()
	ref, node, _, p := refPeerPair(t, p2p.Config{})
	jsonPayload, err := p2p.JSON(map[string]any{"b": 1, "a": []any{"x", 2.5, true, nil}, "u": "é€😀<>&"})
	require.NoError(t, err)
	cases := []struct {
		name    string
		payload []byte
		kind    string
	}{
		{"text", p2p.Text("héllo wörld ✓"), "text"},
		{"json", jsonPayload, "json"},
		{"bytes", ioNotUTF8, "bytes"},
	}
	for _, cc := range ioCodecs {
		t.Run(cc.name, func(t *testing.T) {
			for _, tc := range cases {
				require.NoError(t, p.Send(tc.payload, cc.c))
				ev := ref.requireMessage(t, "c1", tc.payload)
				assert.Equal(t, tc.kind, ev.str("kind"), tc.name)
				assert.Equal(t, cc.name, ev.str("codec"), tc.name)
				if tc.kind == "json" {
					// json.dumps of what the reference parsed is our payload:
					// p2p.JSON writes what Python's json.dumps writes.
					assert.Equal(t, string(tc.payload), ev.str("value"))
				}
			}
			// A broadcast goes out the same way.
			require.NoError(t, node.SendToNodes(p2p.Text("to all"), nil, cc.c))
			assert.Equal(t, cc.name, ref.requireMessage(t, "c1", []byte("to all")).str("codec"))
		})
	}
}

func TestInteropAwkwardPayloadsToReference(t *testing.T) {
	t.Parallel()
	ref, _, _, p := refPeerPair(t, p2p.Config{})
	for _, cc := range ioCodecs {
		t.Run(cc.name, func(t *testing.T) {
			// The 1 MiB payloads go with every codec but cost bzip2 and
			// lzma (under -race) too much time; none and zlib carry them.
			large := cc.c == p2p.None || cc.c == p2p.Zlib
			for _, pl := range ioAwkward(large) {
				require.NoError(t, p.Send(pl.data, cc.c), pl.name)
				ev := ref.requireMessage(t, "c1", pl.data)
				if cc.c == p2p.None {
					want := "none"
					if wire.NeedsCompressedPath(pl.data) {
						want = "zlib"
					}
					assert.Equal(t, want, ev.str("codec"), "%s: sent as", pl.name)
				} else {
					assert.Equal(t, cc.name, ev.str("codec"), pl.name)
				}
			}
			// Nothing stalled the refpeer: a last message still arrives.
			require.NoError(t, p.Send(p2p.Text("sentinel"), p2p.None))
			ref.requireMessage(t, "c1", []byte("sentinel"))
		})
	}
	assert.Empty(t, ref.find(isPyEv("stalled", "")), "a reference peer never consumes an empty frame")
	assert.Empty(t, ref.find(isPyEv("fatal", "")))
}

func TestInteropAwkwardPayloadsFromReference(t *testing.T) {
	t.Parallel()
	ref, _, rec, p := refPeerPair(t, p2p.Config{})
	for _, cc := range ioCodecs[1:] {
		t.Run(cc.name, func(t *testing.T) {
			large := cc.c == p2p.Zlib
			for _, pl := range ioAwkward(large) {
				ref.sendBytes(t, "c1", pl.data, cc.name)
				rec.requireMessage(t, p, pl.data, wire.Classify(pl.data), cc.c)
			}
		})
	}
	t.Run("none", func(t *testing.T) {
		// What raw framing carries exactly, the reference sends raw.
		_, big := ioBigPayloads()
		for _, pl := range []ioPayload{
			{"ends in 0x02 twice", []byte("ab\x02\x02")},
			{"0x02 inside and last", []byte("a\x02b\x02")},
			{"1 MiB raw-safe", big},
		} {
			ref.sendBytes(t, "c1", pl.data, "none")
			rec.requireMessage(t, p, pl.data, wire.Classify(pl.data), p2p.None)
		}
	})
}

// TestInteropClassification checks that our node presents every payload as
// the reference does (a JSON value, text or bytes), in both directions.
func TestInteropClassification(t *testing.T) {
	t.Parallel()
	ref, _, rec, p := refPeerPair(t, p2p.Config{})
	cases := []struct {
		payload string
		kind    p2p.Kind
	}{
		{"123", p2p.KindJSON},
		{"1.5e3", p2p.KindJSON},
		{"-0", p2p.KindJSON},
		{"1E5", p2p.KindJSON},
		{"1e999", p2p.KindJSON},
		{" 12 ", p2p.KindJSON},
		{"1\n", p2p.KindJSON},
		{`"quoted"`, p2p.KindJSON},
		{`"\ud800"`, p2p.KindJSON},
		{"null", p2p.KindJSON},
		{"true", p2p.KindJSON},
		{"[1, 2]", p2p.KindJSON},
		{`{"a":1,"a":2}`, p2p.KindJSON},
		{"NaN", p2p.KindJSON},
		{" NaN ", p2p.KindJSON},
		{"Infinity", p2p.KindJSON},
		{"-Infinity", p2p.KindJSON},
		{"[Infinity, -Infinity,NaN]", p2p.KindJSON},
		{`{"a": NaN}`, p2p.KindJSON},
		{`{"NaN": "NaN"}`, p2p.KindJSON},
		{"", p2p.KindText},
		{"nan", p2p.KindText},
		{"True", p2p.KindText},
		{"None", p2p.KindText},
		{"hello", p2p.KindText},
		{"1 2", p2p.KindText},
		{"01", p2p.KindText},
		{"+1", p2p.KindText},
		{".5", p2p.KindText},
		{"1.", p2p.KindText},
		{"0x10", p2p.KindText},
		{"[1,]", p2p.KindText},
		{"-NaN", p2p.KindText},
		{"- Infinity", p2p.KindText},
		{"NaN1", p2p.KindText},
		{"Infinityx", p2p.KindText},
		{"1 NaN", p2p.KindText},
		{"\ufeff1", p2p.KindText},
		{"\u00a01", p2p.KindText},
		{"\"a\tb\"", p2p.KindText},
		{`"\x41"`, p2p.KindText},
		{`{"a": 1}x`, p2p.KindText},
		{"\xff\xfe", p2p.KindBytes},
		{"\xed\xa0\x80", p2p.KindBytes},
		{"\xc0\x80", p2p.KindBytes},
		{"\xf4\x90\x80\x80", p2p.KindBytes},
		{"123\xff", p2p.KindBytes},
	}
	for _, tc := range cases {
		payload := []byte(tc.payload)
		assert.Equal(t, tc.kind, wire.Classify(payload), "wire.Classify(%q)", tc.payload)

		// Ours → reference: the reference's kind.
		require.NoError(t, p.Send(payload, p2p.None))
		ev := ref.requireMessage(t, "c1", payload)
		assert.Equal(t, tc.kind.String(), ev.str("kind"), "reference's kind of %q", tc.payload)

		// Reference → ours: our kind.
		codec := "none"
		if wire.NeedsCompressedPath(payload) {
			codec = "zlib"
		}
		ref.sendBytes(t, "c1", payload, codec)
		m := rec.message(t, p)
		require.Equal(t, payload, m.Data)
		assert.Equal(t, tc.kind, m.Kind, "our kind of %q", tc.payload)
		if tc.payload == "123" {
			assert.Equal(t, json.Number("123"), m.Value())
		}
	}
}

// TestInteropOddFramesFromReference: frames a reference peer can put on the
// wire that the reference itself chokes on. We must not copy its quirks: the
// connection goes on.
func TestInteropOddFramesFromReference(t *testing.T) {
	t.Parallel()
	ref, node, rec, p := refPeerPair(t, p2p.Config{})

	// A lone EOT stalls a reference peer for good; not us: it is an empty
	// text message, and what follows arrives.
	ref.sendRaw(t, "c1", []byte("\x04after empty\x04"))
	rec.requireMessage(t, p, []byte{}, p2p.KindText, p2p.None)
	rec.requireMessage(t, p, []byte("after empty"), p2p.KindText, p2p.None)

	// A raw payload whose first 0x02 is its last byte is read as compressed
	// (as the reference does); its bad base64 kills a reference peer's
	// connection thread. We drop the frame and count an error.
	before := node.ReceiveErrors()
	ref.sendRaw(t, "c1", []byte("abc\x02\x04!!!!\x02\x04after bad frames\x04"))
	rec.requireMessage(t, p, []byte("after bad frames"), p2p.KindText, p2p.None)
	assert.Equal(t, before+2, node.ReceiveErrors())

	// Many frames in one write, and one frame split over many writes.
	ref.sendRaw(t, "c1", []byte("one\x04two\x04thr"))
	ref.sendRaw(t, "c1", []byte("ee\x04"))
	for _, want := range []string{"one", "two", "three"} {
		rec.requireMessage(t, p, []byte(want), p2p.KindText, p2p.None)
	}
	assert.Len(t, node.Inbound(), 1, "the connection is still up")
}

// TestInteropGluedID: the accepting side's id and its first message arrive in
// one read (the reference sends its id, then whatever its
// inbound_node_connected sends, with nothing in between).
func TestInteropGluedID(t *testing.T) {
	t.Parallel()
	ref := startRefPeer(t)
	refPort := ref.listen(t)
	node, rec := startIONode(t, p2p.Config{})
	frame := func(payload string, c p2p.Compression) []byte {
		f, err := wire.AppendFrame(nil, []byte(payload), c)
		require.NoError(t, err)
		return f
	}
	cases := []struct {
		name     string
		first    []byte
		messages []string
	}{
		{"text", frame("hello from the acceptor", p2p.None), []string{"hello from the acceptor"}},
		{"json dict", frame(`{"a": 1}`, p2p.None), []string{`{"a": 1}`}},
		{"two frames", frame("xyz", p2p.None), []string{"xyz"}},
		{"text starting with a digit", frame("123", p2p.None), []string{"123"}},
		{"text starting with a-f", frame("bye", p2p.None), []string{"bye"}},
		{"zlib compressed", frame("compressed first message", p2p.Zlib), []string{"compressed first message"}},
		{"bzip2 compressed", frame("compressed first message", p2p.Bzip2), []string{"compressed first message"}},
		{"larger than one read", frame(strings.Repeat("x", 10000), p2p.None), []string{strings.Repeat("x", 10000)}},
	}
	cases[2].first = append(cases[2].first, frame("second", p2p.None)...)
	cases[2].messages = append(cases[2].messages, "second")
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := "g" + strconv.Itoa(i)
			refID := p2p.GenerateID("127.0.0.1", refPort+i)
			tag := ref.accept(t, conn, refID, tc.first)
			p, err := node.Connect("127.0.0.1", refPort, false)
			require.NoError(t, err)
			ref.answer(t, tag, "accepted")
			t.Cleanup(func() {
				// The next case dials the same host and port.
				if node.Disconnect(p) == nil {
					rec.wait(t, "outbound_node_disconnected", func(ev *p2p.Event) bool {
						return ev.Type == p2p.EventOutboundDisconnected && ev.Peer == p
					})
				}
			})
			if p.ID() != refID {
				t.Fatalf("the peer's id swallowed the glued message: id is %d bytes %q..., want the 128-hex id %s...",
					len(p.ID()), p.ID()[:min(len(p.ID()), 140)], refID[:16])
			}
			for _, want := range tc.messages {
				m := rec.message(t, p)
				assert.Equal(t, ioShort(want), ioShort(string(m.Data)))
				assert.Equal(t, want, string(m.Data))
			}
			// And the connection goes on.
			ref.send(t, conn, "str", "next", "none")
			m := rec.message(t, p)
			assert.Equal(t, "next", ioShort(string(m.Data)))
		})
	}
}

// ---------------------------------------------------------------------------
// refpeer: disconnects and limits

func TestInteropDisconnect(t *testing.T) {
	t.Parallel()
	t.Run("reference closes inbound", func(t *testing.T) {
		ref, node, rec, p := refPeerPair(t, p2p.Config{})
		ref.do(t, map[string]any{"cmd": "close", "conn": "c1"}, "closed")
		ev := rec.wait(t, "inbound_node_disconnected", ioEvType(p2p.EventInboundDisconnected, "refpeer"))
		assert.Same(t, p, ev.Peer)
		assert.Empty(t, node.Inbound())
	})
	t.Run("reference closes outbound", func(t *testing.T) {
		ref := startRefPeer(t)
		port := ref.listen(t)
		node, rec := startIONode(t, p2p.Config{})
		tag := ref.accept(t, "c1", "acceptor", nil)
		p, err := node.Connect("127.0.0.1", port, false)
		require.NoError(t, err)
		ref.answer(t, tag, "accepted")
		ref.do(t, map[string]any{"cmd": "close", "conn": "c1"}, "closed")
		ev := rec.wait(t, "outbound_node_disconnected", ioEvType(p2p.EventOutboundDisconnected, "acceptor"))
		assert.Same(t, p, ev.Peer)
		assert.Empty(t, node.Outbound())
		assert.Zero(t, rec.count(ioEvType(p2p.EventDisconnectWithOutbound, "")), "the application did not ask")
	})
	t.Run("we disconnect outbound", func(t *testing.T) {
		ref := startRefPeer(t)
		port := ref.listen(t)
		node, rec := startIONode(t, p2p.Config{})
		tag := ref.accept(t, "c1", "acceptor", nil)
		p, err := node.Connect("127.0.0.1", port, false)
		require.NoError(t, err)
		ref.answer(t, tag, "accepted")
		_, big := ioBigPayloads()
		require.NoError(t, p.Send(p2p.Text("bye"), p2p.None))
		require.NoError(t, p.Send(big, p2p.None))
		require.NoError(t, node.Disconnect(p))
		// What was queued is flushed before the close.
		ref.requireMessage(t, "c1", []byte("bye"))
		ref.requireMessage(t, "c1", big)
		ref.wait(t, "our close", isOurClose("c1"))
		rec.wait(t, "outbound_node_disconnected", ioEvType(p2p.EventOutboundDisconnected, "acceptor"))
		var order []p2p.EventType
		for _, ev := range rec.history() {
			order = append(order, ev.Type)
		}
		assert.Equal(t, []p2p.EventType{p2p.EventOutboundConnected, p2p.EventDisconnectWithOutbound, p2p.EventOutboundDisconnected}, order)
		assert.ErrorIs(t, p.Send(p2p.Text("late"), p2p.None), p2p.ErrPeerClosed)
	})
	t.Run("we disconnect inbound", func(t *testing.T) {
		ref, node, rec, p := refPeerPair(t, p2p.Config{})
		require.NoError(t, node.Disconnect(p))
		ref.wait(t, "our close", isOurClose("c1"))
		rec.wait(t, "inbound_node_disconnected", ioEvType(p2p.EventInboundDisconnected, "refpeer"))
		assert.Zero(t, rec.count(ioEvType(p2p.EventDisconnectWithOutbound, "")), "only outbound peers get node_disconnect_with_outbound_node")
	})
	t.Run("we stop", func(t *testing.T) {
		ref := startRefPeer(t)
		port := ref.listen(t)
		node, rec := startIONode(t, p2p.Config{})
		ref.connect(t, "in", node.Port(), "dialler", port)
		tag := ref.accept(t, "out", "acceptor", nil)
		_, err := node.Connect("127.0.0.1", port, false)
		require.NoError(t, err)
		ref.answer(t, tag, "accepted")
		rec.connected(t, p2p.EventInboundConnected, "dialler")
		require.NoError(t, node.Stop())
		ref.wait(t, "our close on in", isOurClose("in"))
		ref.wait(t, "our close on out", isOurClose("out"))
		assert.Equal(t, 1, rec.count(ioEvType(p2p.EventRequestToStop, "")))
		assert.Equal(t, 1, rec.count(ioEvType(p2p.EventInboundDisconnected, "dialler")))
		assert.Equal(t, 1, rec.count(ioEvType(p2p.EventOutboundDisconnected, "acceptor")))
	})
}

func TestInteropMaxConnections(t *testing.T) {
	t.Parallel()
	ref, node, rec, _ := refPeerPair(t, p2p.Config{MaxConnections: 1})
	// Over the limit: closed without a word.
	ev := ref.do(t, map[string]any{"cmd": "connect", "conn": "c2", "port": node.Port(), "id": "second", "announce": 2}, "refused")
	assert.NotZero(t, ev.num("local_port"))
	assert.Len(t, node.Inbound(), 1)
	assert.Zero(t, rec.count(ioEvType(p2p.EventInboundConnected, "second")))

	// Room again once the first one has left.
	ref.do(t, map[string]any{"cmd": "close", "conn": "c1"}, "closed")
	rec.wait(t, "inbound_node_disconnected", ioEvType(p2p.EventInboundDisconnected, "refpeer"))
	ref.connect(t, "c3", node.Port(), "third", 3)
	rec.connected(t, p2p.EventInboundConnected, "third")
}

// ---------------------------------------------------------------------------
// The real p2pnetwork 1.2

type refNode struct {
	*pyProc
	id   string
	port int
}

// startRefNode runs a p2pnetwork Node on 127.0.0.1 with a port of its own.
func startRefNode(t *testing.T, id string, maxConnections int) refNode {
	t.Helper()
	p := startPy(t, "p2pnetwork_driver.py", "@@ ", true)
	cmd := map[string]any{"cmd": "start", "max_connections": maxConnections}
	if id != "" {
		cmd["id"] = id
	}
	ev := p.do(t, cmd, "started")
	return refNode{pyProc: p, id: ev.str("id"), port: ev.num("port")}
}

func isNodeEv(name string) func(pyEvent) bool {
	return func(e pyEvent) bool { return e.str("ev") == "node" && e.str("event") == name }
}

// send makes the reference node send to all its peers, as send_to_nodes
// does; it returns the payload bytes.
func (r refNode) send(t *testing.T, kind string, data any, compression string) []byte {
	t.Helper()
	if b, ok := data.([]byte); ok {
		data = base64.StdEncoding.EncodeToString(b)
	}
	ev := r.do(t, map[string]any{"cmd": "send", "kind": kind, "data": data, "compression": compression}, "sent")
	return ev.bytes(t, "payload")
}

// received takes the reference node's next message.
func (r refNode) received(t *testing.T) pyEvent {
	t.Helper()
	return r.wait(t, "node_message", isNodeEv("node_message"))
}

// requireReceived takes the next message and checks it is payload, as a str
// (UTF-8 text that is not JSON) or bytes.
func (r refNode) requireReceived(t *testing.T, payload []byte) pyEvent {
	t.Helper()
	ev := r.received(t)
	got := ev.bytes(t, "payload")
	if len(payload) > 256 {
		require.True(t, bytes.Equal(payload, got), "p2pnetwork received %d bytes (%s), want %d (identical)", len(got), ev.str("type"), len(payload))
	} else {
		require.Equal(t, payload, got, "p2pnetwork received a %s", ev.str("type"))
	}
	return ev
}

// refNodePair connects a fresh node with a fresh p2pnetwork node; weDial
// tells who dials.
func refNodePair(t *testing.T, weDial bool) (refNode, *p2p.Node, *ioRecorder, *p2p.Peer) {
	t.Helper()
	ref := startRefNode(t, "", 0)
	node, rec := startIONode(t, p2p.Config{})
	var p *p2p.Peer
	if weDial {
		var err error
		p, err = node.Connect("127.0.0.1", ref.port, false)
		require.NoError(t, err)
		ref.wait(t, "inbound_node_connected", isNodeEv("inbound_node_connected"))
	} else {
		ev := ref.do(t, map[string]any{"cmd": "connect", "port": node.Port()}, "connect")
		require.True(t, ev.flag("ok"))
		p = rec.connected(t, p2p.EventInboundConnected, ref.id)
	}
	return ref, node, rec, p
}

func TestP2PNetworkHandshake(t *testing.T) {
	t.Parallel()
	t.Run("we dial", func(t *testing.T) {
		ref := startRefNode(t, "", 0)
		node, rec := startIONode(t, p2p.Config{})
		p, err := node.Connect("127.0.0.1", ref.port, false)
		require.NoError(t, err)
		assert.Len(t, ref.id, 128)
		assert.Equal(t, ref.id, p.ID())
		assert.Equal(t, ref.port, p.Port())
		assert.Same(t, p, rec.connected(t, p2p.EventOutboundConnected, ref.id))
		ev := ref.wait(t, "inbound_node_connected", isNodeEv("inbound_node_connected"))
		assert.Equal(t, node.ID(), ev.str("peer_id"))
		assert.Equal(t, strconv.Itoa(node.Port()), ev.str("peer_port"), "p2pnetwork takes the port of our hello")
		assert.Equal(t, "127.0.0.1", ev.str("peer_host"))
	})
	t.Run("they dial", func(t *testing.T) {
		ref := startRefNode(t, "python-node", 0)
		node, rec := startIONode(t, p2p.Config{})
		ev := ref.do(t, map[string]any{"cmd": "connect", "port": node.Port()}, "connect")
		require.True(t, ev.flag("ok"))
		assert.Equal(t, node.ID(), ev.str("peer_id"), "p2pnetwork reads our id whole")
		ev = ref.wait(t, "outbound_node_connected", isNodeEv("outbound_node_connected"))
		assert.Equal(t, node.ID(), ev.str("peer_id"))
		p := rec.connected(t, p2p.EventInboundConnected, "python-node")
		assert.Equal(t, ref.port, p.Port(), "the port of p2pnetwork's hello")
		assert.Equal(t, "127.0.0.1", p.Host())
	})
	t.Run("they dial themselves through us", func(t *testing.T) {
		// A p2pnetwork node that finds its own id in the reply says CLOSING
		// and hangs up; our node must not keep a peer for it.
		node, rec := startIONode(t, p2p.Config{ID: "same-id"})
		ref := startRefNode(t, "same-id", 0)
		ref.do(t, map[string]any{"cmd": "connect", "port": node.Port()}, "connect")
		ev := ref.do(t, map[string]any{"cmd": "peers"}, "peers")
		assert.Empty(t, ev["outbound"])
		// Then a real peer connects, and is the only one.
		other := startRefNode(t, "other", 0)
		require.True(t, other.do(t, map[string]any{"cmd": "connect", "port": node.Port()}, "connect").flag("ok"))
		rec.connected(t, p2p.EventInboundConnected, "other")
		assert.Zero(t, rec.count(ioEvType(p2p.EventInboundConnected, "same-id")))
		assert.Len(t, node.Inbound(), 1)
	})
}

func TestP2PNetworkMessages(t *testing.T) {
	t.Parallel()
	dict := map[string]any{"z": 1, "a": []any{1, 2.5, "é"}, "nested": map[string]any{"k": nil}}
	jsonPayload, err := p2p.JSON(map[string]any{"b": 1, "a": []any{"x", 2.5, true, nil}, "u": "é€😀<>&"})
	require.NoError(t, err)
	for _, weDial := range []bool{true, false} {
		name := "they dial"
		if weDial {
			name = "we dial"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ref, _, rec, p := refNodePair(t, weDial)
			for _, cc := range ioCodecs {
				// p2pnetwork → us.
				payload := ref.send(t, "str", "héllo from p2pnetwork ✓", cc.name)
				rec.requireMessage(t, p, payload, p2p.KindText, cc.c)
				payload = ref.send(t, "dict", dict, cc.name)
				rec.requireMessage(t, p, payload, p2p.KindJSON, cc.c)
				payload = ref.send(t, "bytes", ioNotUTF8, cc.name)
				require.Equal(t, ioNotUTF8, payload)
				rec.requireMessage(t, p, payload, p2p.KindBytes, cc.c)

				// Us → p2pnetwork.
				require.NoError(t, p.Send(p2p.Text("héllo wörld ✓"), cc.c))
				assert.Equal(t, "str", ref.requireReceived(t, p2p.Text("héllo wörld ✓")).str("type"), cc.name)
				require.NoError(t, p.Send(jsonPayload, cc.c))
				ev := ref.received(t)
				assert.Equal(t, "dict", ev.str("type"), cc.name)
				assert.Equal(t, string(jsonPayload), ev.str("value"), "json.dumps of what p2pnetwork parsed is what we sent")
				require.NoError(t, p.Send(ioNotUTF8, cc.c))
				assert.Equal(t, "bytes", ref.requireReceived(t, ioNotUTF8).str("type"), cc.name)
				require.NoError(t, p.Send(p2p.Text("123"), cc.c))
				ev = ref.received(t)
				assert.Equal(t, "int", ev.str("type"), "the text 123 arrives as a number")
			}
		})
	}
}

func TestP2PNetworkAwkwardPayloads(t *testing.T) {
	t.Parallel()
	ref, _, _, p := refNodePair(t, true)
	// p2pnetwork reads 4096 bytes per 10 ms: one large payload is enough.
	_, big := ioBigPayloads()
	for _, cc := range ioCodecs {
		for _, pl := range ioAwkward(false) {
			require.NoError(t, p.Send(pl.data, cc.c), pl.name)
			ev := ref.requireReceived(t, pl.data)
			want := "str"
			if wire.Classify(pl.data) == p2p.KindBytes {
				want = "bytes"
			}
			assert.Equal(t, want, ev.str("type"), "%s %s", cc.name, pl.name)
		}
	}
	require.NoError(t, p.Send(big, p2p.None))
	ref.requireReceived(t, big)
	// Nothing stalled it: a last message still arrives.
	require.NoError(t, p.Send(p2p.Text("sentinel"), p2p.None))
	ref.requireReceived(t, []byte("sentinel"))
}

func TestP2PNetworkDisconnect(t *testing.T) {
	t.Parallel()
	t.Run("they disconnect their outbound", func(t *testing.T) {
		t.Parallel()
		ref, node, rec, p := refNodePair(t, false)
		ref.do(t, map[string]any{"cmd": "disconnect_outbound"}, "disconnecting")
		ref.wait(t, "node_disconnect_with_outbound_node", isNodeEv("node_disconnect_with_outbound_node"))
		// p2pnetwork's connection thread notices its stop flag after its
		// recv returns (up to 10 s on an idle connection): give it data.
		_ = p.Send(p2p.Text("wake up"), p2p.None)
		ev := rec.wait(t, "inbound_node_disconnected", ioEvType(p2p.EventInboundDisconnected, ref.id))
		assert.Same(t, p, ev.Peer)
		ref.wait(t, "outbound_node_disconnected", isNodeEv("outbound_node_disconnected"))
		assert.Empty(t, node.Inbound())
	})
	t.Run("we disconnect our outbound", func(t *testing.T) {
		t.Parallel()
		// p2pnetwork never closes its side when we close ours (its reader
		// loops on the empty reads); our close must not wait on it.
		_, node, rec, p := refNodePair(t, true)
		require.NoError(t, node.Disconnect(p))
		rec.wait(t, "outbound_node_disconnected", ioEvType(p2p.EventOutboundDisconnected, p.ID()))
		assert.Equal(t, 1, rec.count(ioEvType(p2p.EventDisconnectWithOutbound, p.ID())))
		assert.Empty(t, node.Outbound())
	})
	t.Run("they stop", func(t *testing.T) {
		t.Parallel()
		ref, node, rec, p := refNodePair(t, true)
		ref.post(t, map[string]any{"cmd": "quit"})
		ev := rec.wait(t, "outbound_node_disconnected", ioEvType(p2p.EventOutboundDisconnected, ref.id))
		assert.Same(t, p, ev.Peer)
		assert.Empty(t, node.All())
	})
}

func TestP2PNetworkMaxConnections(t *testing.T) {
	t.Parallel()
	t.Run("theirs", func(t *testing.T) {
		t.Parallel()
		ref := startRefNode(t, "", 1)
		a, _ := startIONode(t, p2p.Config{})
		b, _ := startIONode(t, p2p.Config{})
		_, err := a.Connect("127.0.0.1", ref.port, false)
		require.NoError(t, err)
		ref.wait(t, "inbound_node_connected", isNodeEv("inbound_node_connected"))
		_, err = b.Connect("127.0.0.1", ref.port, false)
		assert.ErrorIs(t, err, p2p.ErrRefused)
		assert.Empty(t, b.Outbound())
	})
	t.Run("ours", func(t *testing.T) {
		t.Parallel()
		node, rec := startIONode(t, p2p.Config{MaxConnections: 1})
		first := startRefNode(t, "first", 0)
		second := startRefNode(t, "second", 0)
		require.True(t, first.do(t, map[string]any{"cmd": "connect", "port": node.Port()}, "connect").flag("ok"))
		rec.connected(t, p2p.EventInboundConnected, "first")
		// p2pnetwork takes the silent close for an empty id and thinks it
		// is connected; our node has only the first peer.
		second.do(t, map[string]any{"cmd": "connect", "port": node.Port()}, "connect")
		assert.Len(t, node.Inbound(), 1)
		assert.Zero(t, rec.count(ioEvType(p2p.EventInboundConnected, "second")))
	})
}
