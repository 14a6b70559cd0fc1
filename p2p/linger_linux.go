package p2p

import (
	"net"
	"syscall"
	"unsafe"
)

// socketQueues tells how many bytes written to conn the peer has not
// acknowledged yet (SIOCOUTQ: unsent plus unacknowledged), and how many
// received bytes wait to be read (SIOCINQ); ok is false when conn has no
// socket to ask.
func socketQueues(conn net.Conn) (out, in int, ok bool) {
	sc, isSys := conn.(syscall.Conn)
	if !isSys {
		return 0, 0, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, 0, false
	}
	var o, i int32
	var errOut, errIn syscall.Errno
	if err := raw.Control(func(fd uintptr) {
		_, _, errOut = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&o)))
		_, _, errIn = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&i)))
	}); err != nil || errOut != 0 || errIn != 0 {
		return 0, 0, false
	}
	return int(o), int(i), true
}
