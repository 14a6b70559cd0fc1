package secure

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const peerScript = "testdata/p2psecure_peer.py"

// pyBatch is the Python peer in batch mode: one request, one answer.
type pyBatch struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startPyBatch(t *testing.T) *pyBatch {
	t.Helper()
	python := requirePython(t, true)
	cmd := exec.Command(python, peerScript, "batch")
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("python peer: %v\n%s", err, stderr.String())
		}
	})
	return &pyBatch{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
}

// call sends a request, written as canonical JSON so that Python sees the
// same numbers (1.0 stays a float), and returns the answer.
func (p *pyBatch) call(t *testing.T, req map[string]any) map[string]any {
	t.Helper()
	line, err := Canonical(req)
	require.NoError(t, err)
	_, err = p.in.Write(append(line, '\n'))
	require.NoError(t, err)
	ans, err := p.out.ReadBytes('\n')
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(ans, &m))
	require.Nil(t, m["error"], "python: %v", m["error"])
	return m
}

func interopData() []map[string]any {
	return []map[string]any{
		sampleData(),
		{"_type": "message", "message": "plain"},
		{"_type": "message", "message": map[string]any{"é": 1, "😀": []any{}, "\uffff": map[string]any{}, "": nil, "a\nb": "\x00\x1f\x7f\u2028"}},
		{"_type": "custom", "floats": []any{0.1, 1e16, 1e-5, 123456789.123, math.Copysign(0, -1), 5e-324, 1.7976931348623157e308, 1e15, 0.0001, 2.5}},
		{"_type": "custom", "ints": []any{0, -1, json.Number("1180591620717411303424"), json.Number("-99999999999999999999999")}},
		{"nested": []any{[]any{[]any{map[string]any{"deep": true}}}}, "empty": map[string]any{}, "list": []any{}},
	}
}

// TestPythonVerifiesOurMessages: what Sign writes passes the Python
// peer's check_message; every tampering fails it.
func TestPythonVerifiesOurMessages(t *testing.T) {
	py := startPyBatch(t)
	for i, data := range interopData() {
		payload, err := Sign(testKeys[0], "go-node", data, uint64(i), 2, 1718000000.25+float64(i))
		require.NoError(t, err)
		ans := py.call(t, map[string]any{"op": "check", "payload": string(payload)})
		assert.Equal(t, true, ans["ok"], "case %d: %v", i, ans["reason"])
	}
	payload, err := Sign(testKeys[0], "go-node", sampleData(), 7, 3, 1718000000.5)
	require.NoError(t, err)
	for name, b := range tampered(t, payload) {
		ans := py.call(t, map[string]any{"op": "check", "payload": string(b)})
		assert.Equal(t, false, ans["ok"], name)
	}
}

// TestWeVerifyPythonMessages: what the Python peer's create_message writes
// (with a key file we wrote in the reference's format) passes Verify, and
// every tampering fails it.
func TestWeVerifyPythonMessages(t *testing.T) {
	py := startPyBatch(t)
	keyPath := filepath.Join(t.TempDir(), "py.key")
	saveReferenceFast(t, testKeys[1], keyPath, "pässwörd")
	var first []byte
	for i, data := range interopData() {
		ans := py.call(t, map[string]any{"op": "create", "key": keyPath, "password": "pässwörd", "id": "py-node", "data": data})
		payload := []byte(ans["payload"].(string))
		m, err := Verify(payload)
		require.NoError(t, err, "case %d: %s", i, payload)
		assert.Equal(t, "py-node", m.ID)
		assert.True(t, m.PublicKey.Equal(testKeys[1].PublicKey()))
		// The content survives as Python sent it.
		for k, v := range data {
			if strings.HasPrefix(k, "_") && k != "_type" {
				continue
			}
			want, err := Canonical(v)
			require.NoError(t, err)
			got, err := Canonical(m.Fields[k])
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got), "case %d field %s", i, k)
		}
		if first == nil {
			first = payload
		}
	}
	for name, tamper := range tamperings() {
		v, err := Parse(first)
		require.NoError(t, err)
		m := v.(map[string]any)
		tamper(m)
		b, err := Canonical(m)
		require.NoError(t, err)
		_, err = Verify(b)
		assert.Error(t, err, name)
	}
}

// TestPythonKeyFiles: key files written by the Python peer as the
// reference does load here, and ours load there.
func TestPythonKeyFiles(t *testing.T) {
	py := startPyBatch(t)
	dir := t.TempDir()
	// The reference cannot save with an empty password (PyCryptodome
	// refuses an empty passphrase), so only Go writes that case.
	path := filepath.Join(dir, "py.key")
	ans := py.call(t, map[string]any{"op": "savekey", "path": path, "password": "pässwörd", "bits": 2048})
	want, err := ParsePublicKey(ans["public_key"].(string))
	require.NoError(t, err)
	k, err := LoadKey(path, "pässwörd")
	require.NoError(t, err)
	assert.True(t, k.PublicKey().Equal(want))
	_, err = LoadKey(path, "wrong")
	assert.Error(t, err)

	for _, pw := range []string{"pässwörd", ""} {
		ours := filepath.Join(dir, "go-"+pw+".key")
		require.NoError(t, testKeys[2].SaveReference(ours, pw)) // default iterations
		ans = py.call(t, map[string]any{"op": "loadkey", "path": ours, "password": pw})
		assert.Equal(t, testKeys[2].PublicKeyPEM(), ans["public_key"])
	}
}

// pyPeer is the Python peer in serve mode: a p2pnetwork node behaving as
// SecureNode.
type pyPeer struct {
	in     io.WriteCloser
	mu     sync.Mutex
	events []map[string]any
	port   int
	id     string
}

func startPyPeer(t *testing.T, key *Key) *pyPeer {
	t.Helper()
	python := requirePython(t, true)
	if err := exec.Command(python, "-c", "import p2pnetwork.node").Run(); err != nil {
		t.Skip("p2pnetwork not installed (python3 -m pip install p2pnetwork==1.2)")
	}
	keyPath := filepath.Join(t.TempDir(), "peer.key")
	saveReferenceFast(t, key, keyPath, "peer-password")
	cmd := exec.Command(python, peerScript, "serve", keyPath, "peer-password")
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	p := &pyPeer{in: in}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<22)
		for sc.Scan() {
			line, ok := strings.CutPrefix(sc.Text(), "EVENT ")
			if !ok {
				continue
			}
			var ev map[string]any
			if json.Unmarshal([]byte(line), &ev) == nil {
				p.mu.Lock()
				p.events = append(p.events, ev)
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		in.Close() // the peer exits when its input ends
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		<-readerDone
		if t.Failed() {
			t.Logf("python peer stderr:\n%s", stderr.String())
		}
	})
	ready := p.waitEvent(t, "ready", nil)
	p.port = int(ready["port"].(float64))
	p.id = ready["id"].(string)
	return p
}

func (p *pyPeer) send(t *testing.T, cmd map[string]any) {
	t.Helper()
	line, err := Canonical(cmd)
	require.NoError(t, err)
	_, err = p.in.Write(append(line, '\n'))
	require.NoError(t, err)
}

func (p *pyPeer) find(kind string, match func(map[string]any) bool) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var found []map[string]any
	for _, ev := range p.events {
		if ev["event"] == kind && (match == nil || match(ev)) {
			found = append(found, ev)
		}
	}
	return found
}

func (p *pyPeer) waitEvent(t *testing.T, kind string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	var found []map[string]any
	waitFor(t, "python event "+kind, func() bool {
		found = p.find(kind, match)
		return len(found) > 0
	})
	return found[0]
}

// TestPythonPeerNetwork runs two Go secure nodes and the Python peer,
// a -> b <- py, over loopback: signed messages both ways, ping, and
// discovery from either end.
func TestPythonPeerNetwork(t *testing.T) {
	py := startPyPeer(t, testKeys[2])
	a, ra := startNode(t, testKeys[0], Config{})
	b, rb := startNode(t, testKeys[1], Config{})
	connect(t, a, b)
	py.send(t, map[string]any{"cmd": "connect", "host": "127.0.0.1", "port": b.Port()})
	ok := py.waitEvent(t, "connect_result", nil)
	require.Equal(t, true, ok["ok"])
	waitFor(t, "b to see the python peer", func() bool { return peerOf(b, py.id) != nil })
	assert.Equal(t, py.port, peerOf(b, py.id).Port())

	// Go -> Python and Go -> Go.
	content := map[string]any{"text": "héllo 😀", "f": 1.5, "one": 1.0, "big": json1e70(), "tiny": 5e-324}
	require.NoError(t, b.SendMessage(content))
	got := py.waitEvent(t, "message", nil)
	data := got["data"].(map[string]any)
	assert.Equal(t, b.ID(), data["_id"])
	assert.Equal(t, "héllo 😀", data["message"].(map[string]any)["text"])
	waitFor(t, "a to get b's message", func() bool { n, _, _ := ra.count(); return n == 1 })

	// Python -> Go.
	py.send(t, map[string]any{"cmd": "message", "message": map[string]any{"from": "python", "x": 0.1, "n": 2.0}})
	waitFor(t, "b to get the python message", func() bool { n, _, _ := rb.count(); return n == 1 })
	msgs, _, _ := rb.snapshot()
	assert.Equal(t, py.id, msgs[0].ID)
	c, err := Canonical(msgs[0].Fields["message"])
	require.NoError(t, err)
	assert.Equal(t, `{"from": "python", "n": 2.0, "x": 0.1}`, string(c))

	// Ping both ways.
	require.NoError(t, b.SendPing())
	waitFor(t, "the python peer's pong", func() bool {
		v, ok := peerOf(b, py.id).Info("ping")
		_, isFloat := v.(float64)
		return ok && isFloat
	})
	py.send(t, map[string]any{"cmd": "ping"})
	pong := py.waitEvent(t, "pong", nil)
	assert.Equal(t, b.ID(), pong["peer"])

	// Discovery from a: b answers, and the python peer's answer comes back
	// through b, signed by the python peer.
	require.NoError(t, a.SendDiscovery())
	waitFor(t, "two answers at a", func() bool { _, _, n := ra.count(); return n == 2 })
	_, _, answers := ra.snapshot()
	byID := map[string]*DiscoveryAnswer{}
	for _, ans := range answers {
		byID[ans.Message.ID] = ans
	}
	require.Contains(t, byID, b.ID())
	require.Contains(t, byID, py.id)
	ni, ok2 := nodeByID(byID[b.ID()].Nodes, py.id)
	require.True(t, ok2)
	assert.Equal(t, NodeInfo{ID: py.id, IP: "127.0.0.1", Port: py.port, Connection: "inbound"}, ni)
	ni, ok2 = nodeByID(byID[b.ID()].Nodes, a.ID())
	require.True(t, ok2)
	assert.Equal(t, a.Port(), ni.Port)
	ni, ok2 = nodeByID(byID[py.id].Nodes, b.ID())
	require.True(t, ok2)
	assert.Equal(t, NodeInfo{ID: b.ID(), IP: "127.0.0.1", Port: b.Port(), Connection: "outbound"}, ni)

	// Discovery from the python peer: b answers, a's answer is relayed.
	py.send(t, map[string]any{"cmd": "discovery"})
	fromB := py.waitEvent(t, "discovery_answer", func(ev map[string]any) bool { return ev["from"] == b.ID() })
	py.waitEvent(t, "discovery_answer", func(ev map[string]any) bool { return ev["from"] == a.ID() })
	ports := map[string]float64{}
	for _, n := range fromB["nodes"].([]any) {
		e := n.(map[string]any)
		ports[e["id"].(string)] = e["port"].(float64)
	}
	assert.Equal(t, map[string]float64{a.ID(): float64(a.Port()), py.id: float64(py.port)}, ports)

	assert.Empty(t, py.find("rejected", nil))
	for name, r := range map[string]*recorder{"a": ra, "b": rb} {
		_, rejected, _ := r.snapshot()
		assert.Empty(t, rejected, name)
	}
}

// saveReferenceFast writes a reference key file with few PBKDF2 iterations
// for the inner PEM, to keep the tests quick (the outer layer has the
// reference's fixed 1000).
func saveReferenceFast(t *testing.T, key *Key, path, password string) {
	t.Helper()
	data, err := key.marshalReference(password, 1000)
	require.NoError(t, err)
	require.NoError(t, writeKeyFile(path, data))
}
