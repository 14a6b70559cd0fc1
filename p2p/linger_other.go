//go:build !linux

package p2p

import "net"

// unacked is known on Linux only (see linger_linux.go); elsewhere a closing
// connection sends FIN and lingers as before.
func unacked(net.Conn) (int, bool) { return 0, false }
