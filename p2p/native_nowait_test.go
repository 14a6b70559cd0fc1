package p2p

import (
	"bytes"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p/native"
)

// The native reader reads the socket under TLS without waiting
// (errWouldWait) before it hands a batch over: TLS must not keep that
// error, and must deliver the stream whole across it.
func TestNativeReaderNoWaitIsNotSticky(t *testing.T) {
	config := func(server bool) *tls.Config {
		_, key, err := ed25519.GenerateKey(nil)
		require.NoError(t, err)
		cert, err := native.Certificate(key)
		require.NoError(t, err)
		return native.Config(cert, server)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	dialed := make(chan net.Conn, 1)
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			close(dialed)
			return
		}
		dialed <- c
	}()
	raw, err := ln.Accept()
	require.NoError(t, err)
	defer raw.Close()
	cc, ok := <-dialed
	require.True(t, ok)
	defer cc.Close()
	deadline := time.Now().Add(10 * time.Second)
	require.NoError(t, raw.SetDeadline(deadline))
	require.NoError(t, cc.SetDeadline(deadline))

	sock := &countingConn{Conn: raw}
	server := tls.Server(sock, config(true))
	client := tls.Client(cc, config(false))
	hs := make(chan error, 1)
	go func() { hs <- client.Handshake() }()
	require.NoError(t, server.Handshake())
	require.NoError(t, <-hs)

	// Reads of 7000 bytes end inside records, and the socket reads under
	// them may end inside records too.
	a := bytes.Repeat([]byte("0123456789abcdef"), 12_345)
	b := bytes.Repeat([]byte("fedcba9876543210"), 4_321)
	wrote := make(chan error, 2)
	next, done := make(chan struct{}), make(chan struct{})
	defer close(done)
	go func() {
		_, err := client.Write(a)
		wrote <- err
		select {
		case <-next:
		case <-done:
			return
		}
		_, err = client.Write(b)
		wrote <- err
	}()
	r := &nativeReader{conn: server, sock: sock}
	read := func(n int) []byte {
		var got []byte
		waits := 0
		for len(got) < n {
			r.buf, r.start, r.w = make([]byte, 7_000), 0, 0
			ok, err := r.fillNow(1)
			require.NoError(t, err)
			if !ok {
				waits++
				require.NoError(t, r.fill(1))
			}
			got = append(got, r.buf[r.start:r.w]...)
		}
		t.Logf("%d reads would have waited", waits)
		return got
	}
	require.Equal(t, a, read(len(a)))
	require.NoError(t, <-wrote)
	// Nothing is buffered now: a read that may not wait reads nothing.
	r.buf, r.start, r.w = make([]byte, 100), 0, 0
	ok, err = r.fillNow(1)
	require.NoError(t, err)
	require.False(t, ok)
	close(next)
	require.Equal(t, b, read(len(b)))
	require.NoError(t, <-wrote)

	// The end of the stream still comes through.
	require.NoError(t, client.Close())
	r.buf, r.start, r.w = make([]byte, 100), 0, 0
	for {
		ok, err := r.fillNow(1)
		if err == nil && !ok {
			err = r.fill(1)
		}
		if err != nil {
			require.True(t, errors.Is(err, io.EOF), "%v", err)
			break
		}
	}
}
