package main

/*
#define P2P_NO_PROTOTYPES
#include <stdlib.h>
#include <string.h>
#include "p2pnode.h"
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"unsafe"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// Errors: the status codes and the calling thread's message of every
// failing call, and the guard that turns a panic into P2P_EINTERNAL.

// failNew maps the error of a node constructor: bad arguments, or the port.
func failNew(err error) C.int {
	if errors.Is(err, p2p.ErrInvalidArgument) {
		return failErr(err)
	}
	return fail(C.P2P_EBIND, "%v", err)
}

// fail sets the calling thread's message and returns code.
func fail(code C.int, format string, args ...any) C.int {
	setError(fmt.Sprintf(format, args...))
	return code
}

func setError(msg string) {
	if msg == "" {
		C.p2p_set_error_(nil, 0)
		return
	}
	C.p2p_set_error_((*C.char)(unsafe.Pointer(unsafe.StringData(msg))), C.size_t(len(msg)))
}

// failErr maps a core error to its status code.
func failErr(err error) C.int {
	var code C.int
	var opErr *net.OpError
	switch {
	case errors.Is(err, p2p.ErrInvalidArgument), errors.Is(err, p2p.ErrUnsupportedValue),
		errors.Is(err, wire.ErrUnknownCodec):
		code = C.P2P_EINVAL
	case errors.Is(err, p2p.ErrNotStarted), errors.Is(err, p2p.ErrAlreadyStarted),
		errors.Is(err, p2p.ErrHandlerInProgress):
		code = C.P2P_ESTATE
	case errors.Is(err, p2p.ErrStopped):
		code = C.P2P_ESTOPPED
	case errors.Is(err, p2p.ErrEncryptionRequired), errors.Is(err, p2p.ErrKeyMismatch),
		errors.Is(err, p2p.ErrNotAllowed), errors.Is(err, p2p.ErrDowngrade):
		code = C.P2P_EREFUSED
	case errors.Is(err, p2p.ErrSelfConnect):
		code = C.P2P_ESELF
	case errors.Is(err, p2p.ErrAlreadyConnected):
		code = C.P2P_EALREADY
	case errors.Is(err, p2p.ErrRefused), errors.As(err, &opErr):
		code = C.P2P_ECONNECT
	case errors.Is(err, p2p.ErrHandshake):
		code = C.P2P_EHANDSHAKE
	case errors.Is(err, p2p.ErrPeerClosed), errors.Is(err, p2p.ErrUnknownPeer):
		code = C.P2P_ENOPEER
	case errors.Is(err, p2p.ErrQueueFull):
		code = C.P2P_EFULL
	case errors.Is(err, p2p.ErrMessageTooLarge):
		code = C.P2P_ETOOBIG
	default:
		code = C.P2P_EINTERNAL
	}
	return fail(code, "%v", err)
}

// guard turns a panic in an exported function into P2P_EINTERNAL. Use as
// `defer guard(&rc)` with a named result.
func guard(rc *C.int) {
	if r := recover(); r != nil {
		*rc = fail(C.P2P_EINTERNAL, "p2pnode internal error: %v\n%s", r, debug.Stack())
	}
}

// forked reports whether this process is a child forked from the one that
// loaded the library (shim.c's pthread_atfork handler sets the flag): the
// parent's threads, which run every node, do not exist here. The C entry
// points (entry.c) refuse such calls before they reach Go; this is the
// second line, for a call that got in anyway.
func forked() bool { return C.p2p_forked_ != 0 }

// failForked reports P2P_EFORK without allocating: in a forked child the Go
// runtime cannot be trusted to collect garbage.
func failForked() C.int {
	setError("p2pnode cannot be used in a process forked from the one that loaded it (its threads were not copied); use it in the parent, or exec a new program")
	return C.P2P_EFORK
}
