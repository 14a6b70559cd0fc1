//go:build !unix

package p2p

import (
	"errors"
	"net"
	"syscall"
)

// idleReader: only where the socket can be waited on without a buffer
// (idleread_unix.go); elsewhere an idle reader keeps its small buffer.
func idleReader(net.Conn) syscall.RawConn { return nil }

func readIdle(syscall.RawConn) ([]byte, int, error) {
	return nil, 0, errors.New("no idle read here")
}

func readSock(syscall.RawConn) ([]byte, int, error) {
	return nil, 0, errors.New("no idle read here")
}
