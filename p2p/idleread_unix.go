//go:build unix

package p2p

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// idleReader is what a plaintext reader waits on while nothing is pending:
// the socket itself, so that it can wait for bytes without holding a
// buffer (see readIdle).
func idleReader(conn net.Conn) syscall.RawConn {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// readIdle waits until rc is readable, holding no buffer meanwhile, then
// reads what came into a pooled one of readBufferMin bytes. The read is
// made where the runtime would make it (a non-blocking read, a wait in the
// poller on EAGAIN), so deadlines and Close end it as they end a Read.
func readIdle(rc syscall.RawConn) (buf []byte, got int, err error) {
	var rerr error
	werr := rc.Read(func(fd uintptr) bool {
		b := idlePool.Get().(*[readBufferMin]byte)
		for {
			k, e := syscall.Read(int(fd), b[:])
			if errors.Is(e, syscall.EINTR) {
				continue
			}
			if errors.Is(e, syscall.EAGAIN) {
				idlePool.Put(b)
				return false
			}
			switch {
			case e != nil:
				rerr = fmt.Errorf("read: %w", e)
			case k == 0:
				rerr = io.EOF
			}
			buf, got = b[:], max(k, 0)
			return true
		}
	})
	if werr != nil {
		return nil, 0, werr
	}
	return buf, got, rerr
}

// readSock is readIdle for the buffers TLS reads the socket through
// (sockPool). It is a copy rather than one function for both taking the
// pool as an argument: an idle reader's stack is most of its memory, and
// the extra frames made it grow.
func readSock(rc syscall.RawConn) (buf []byte, got int, err error) {
	var rerr error
	werr := rc.Read(func(fd uintptr) bool {
		b := sockPool.Get().(*[sockBufSize]byte)
		for {
			k, e := syscall.Read(int(fd), b[:])
			if errors.Is(e, syscall.EINTR) {
				continue
			}
			if errors.Is(e, syscall.EAGAIN) {
				sockPool.Put(b)
				return false
			}
			switch {
			case e != nil:
				rerr = fmt.Errorf("read: %w", e)
			case k == 0:
				rerr = io.EOF
			}
			buf, got = b[:], max(k, 0)
			return true
		}
	})
	if werr != nil {
		return nil, 0, werr
	}
	return buf, got, rerr
}
