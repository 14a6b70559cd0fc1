// Command capi is the C ABI of p2pnode, built with -buildmode=c-shared into
// libp2pnode.so (libp2pnode.dll on Windows). include/p2pnode.h is its
// contract. It translates only: C strings and buffers in, status codes and
// events out; all networking lives in package p2p.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include -I${SRCDIR}
*/
import "C"

import "runtime"

// Locking the main goroutine keeps the process's first thread out of Go's
// scheduler, which language runtimes that host the library (mono) expect.
func init() { runtime.LockOSThread() }

func main() {}
