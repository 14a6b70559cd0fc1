package main

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/p2pnode/p2pnode/p2p/secure"
)

// instance is one secure_node run in-process, driven through pipes.
type instance struct {
	in    io.WriteCloser
	lines chan string
	done  chan error
	port  string
	id    string
}

func start(t *testing.T, keyFile, password string) *instance {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	x := &instance{in: inW, lines: make(chan string, 1024), done: make(chan error, 1)}
	go func() {
		err := run([]string{keyFile, password}, inR, outW, io.Discard)
		outW.Close()
		x.done <- err
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			x.lines <- sc.Text()
		}
		close(x.lines)
	}()
	ready := x.expect(t, "READY ")
	f := strings.Fields(ready)
	x.port, x.id = f[1], f[2]
	return x
}

// expect returns the next line that starts with prefix, failing after a deadline.
func (x *instance) expect(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-x.lines:
			if !ok {
				t.Fatalf("output ended before %q", prefix)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %q", prefix)
		}
	}
}

func (x *instance) send(t *testing.T, cmd string) {
	t.Helper()
	if _, err := fmt.Fprintln(x.in, cmd); err != nil {
		t.Fatal(err)
	}
}

func TestSecureNodes(t *testing.T) {
	dir := t.TempDir()
	key, err := secure.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	// One key file in each format; the second node's is p2psecure's.
	aKey, bKey := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	if err := key.Save(aKey, "secret"); err != nil {
		t.Fatal(err)
	}
	other, err := secure.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.SaveReference(bKey, "secret"); err != nil {
		t.Fatal(err)
	}
	a, b := start(t, aKey, "secret"), start(t, bKey, "secret")

	a.send(t, "connect 127.0.0.1 "+b.port)
	if got := a.expect(t, "OK connect"); got != "OK connect "+b.id {
		t.Fatalf("got %q", got)
	}
	b.expect(t, "EVENT connected "+a.id+" inbound")
	a.send(t, `message {"text": "h\u00e9llo", "n": 1.0}`)
	a.expect(t, "OK message")
	got := b.expect(t, "EVENT message "+a.id+" "+a.id+" message ")
	if !strings.Contains(got, `"message": {"n": 1.0, "text": "h\u00e9llo"}`) {
		t.Fatalf("message line %q", got)
	}
	a.send(t, "ping")
	a.expect(t, "OK ping")
	deadline := time.Now().Add(20 * time.Second)
	for {
		a.send(t, "status")
		if s := a.expect(t, "OK status"); !strings.HasSuffix(s, "=-") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no latency after a ping")
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.send(t, "discovery")
	answer := a.expect(t, "EVENT discovery_answer "+b.id+" "+b.id+" ")
	if !strings.HasSuffix(answer, a.id+"@127.0.0.1:"+a.port+"/inbound") {
		t.Fatalf("answer %q", answer)
	}
	a.send(t, "message not json")
	a.expect(t, "ERR message")
	a.send(t, "stop")
	a.expect(t, "OK stop")
	b.in.Close() // end of input stops it too
	b.expect(t, "EVENT disconnected "+a.id)
	b.expect(t, "OK stop")
	for _, x := range []*instance{a, b} {
		if err := <-x.done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestAESMode: the second form, p2psecure's secure_node_aes.py.
func TestAESMode(t *testing.T) {
	file := filepath.Join(t.TempDir(), "test.enc")
	var out strings.Builder
	if err := run([]string{"aes", file, "password123", "Hallo", "Maurice", "Snoeren"}, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || lines[0] != "FILE Hallo Maurice Snoeren" || !strings.HasPrefix(lines[1], "CIPHER ") || lines[2] != "PLAIN Hoi daar!" {
		t.Fatalf("output %q", out.String())
	}
	plain, err := secure.DecryptAESFilePassword(file, []byte("password123"))
	if err != nil || string(plain) != "Hallo Maurice Snoeren" {
		t.Fatalf("the file: %q, %v", plain, err)
	}
	// Without text it reads the file as it is.
	out.Reset()
	if err := run([]string{"aes", file, "password123"}, nil, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "FILE Hallo Maurice Snoeren\n") {
		t.Fatalf("read back: %q, %v", out.String(), err)
	}
	if err := run([]string{"aes", filepath.Join(t.TempDir(), "missing"), "pw"}, nil, &out, io.Discard); err == nil {
		t.Fatal("a missing file is an error")
	}
	if err := run([]string{"aes", file}, nil, &out, io.Discard); err == nil {
		t.Fatal("a usage error")
	}
}
