//go:build !linux

package p2p

import "net"

// socketQueues are known on Linux only (see linger_linux.go); elsewhere a
// closing connection sends FIN and lingers as before.
func socketQueues(net.Conn) (out, in int, ok bool) { return 0, 0, false }
