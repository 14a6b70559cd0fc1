package p2p

import (
	"net"
	"syscall"
	"unsafe"
)

// unacked tells how many bytes written to conn the peer has not acknowledged
// yet (SIOCOUTQ: unsent plus unacknowledged); ok is false when conn has no
// socket to ask.
func unacked(conn net.Conn) (n int, ok bool) {
	sc, isSys := conn.(syscall.Conn)
	if !isSys {
		return 0, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var out int32
	var errno syscall.Errno
	if err := raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&out)))
	}); err != nil || errno != 0 {
		return 0, false
	}
	return int(out), true
}
