package p2p_test

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// proxy forwards TCP connections to a target, showing the test the bytes
// that pass (seen), flipping one byte of the dialer's stream when flip is
// armed, and forwarding nothing more once stalled (the sockets stay open).
type proxy struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	seen    bytes.Buffer
	flip    atomic.Bool
	stalled atomic.Bool
	// held, while set, makes both directions stop reading until it is
	// closed (hold, release): the sockets' buffers fill, and writes wait.
	held  chan struct{}
	wg    sync.WaitGroup
	conns []net.Conn
}

func newProxy(t *testing.T, targetPort int) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: net.JoinHostPort("127.0.0.1", strconv.Itoa(targetPort))}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *proxy) close() {
	_ = p.ln.Close()
	p.release()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(in, out, true)
		go p.pipe(out, in, false)
	}
}

// hold stops the proxy reading, both ways, until release.
func (p *proxy) hold() {
	p.mu.Lock()
	p.held = make(chan struct{})
	p.mu.Unlock()
}

func (p *proxy) release() {
	p.mu.Lock()
	if p.held != nil {
		close(p.held)
		p.held = nil
	}
	p.mu.Unlock()
}

func (p *proxy) pipe(from, to net.Conn, fromDialer bool) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		p.mu.Lock()
		held := p.held
		p.mu.Unlock()
		if held != nil {
			<-held
		}
		k, err := from.Read(buf)
		if k > 0 {
			if p.stalled.Load() {
				// Swallow everything from now on; the sockets stay open.
				_, _ = io.Copy(io.Discard, from)
				return
			}
			if fromDialer && p.flip.CompareAndSwap(true, false) {
				buf[k/2] ^= 0x20
			}
			p.mu.Lock()
			p.seen.Write(buf[:k])
			p.mu.Unlock()
			if _, err := to.Write(buf[:k]); err != nil {
				return
			}
		}
		if err != nil {
			_ = to.Close()
			return
		}
	}
}

func (p *proxy) bytesSeen() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.seen.Bytes()...)
}
