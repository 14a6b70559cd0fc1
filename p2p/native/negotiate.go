package native

import "bytes"

// Magic is what a native dialer sends first, once it has seen the
// listener's greeting; its TLS ClientHello follows. It starts with a NUL
// byte, which no p2pnetwork hello ("<id>:<port>" in UTF-8 text from a peer
// that never speaks first) starts with.
const Magic = "\x00p2pnode/1\n"

// First says what the first bytes a listener read from a dialer are.
type First int

const (
	// FirstPlain: a p2pnetwork hello (or anything else that is not ours);
	// handle it as the plaintext protocol does.
	FirstPlain First = iota
	// FirstNative: the magic; TLS data follows it.
	FirstNative
	// FirstMore: a prefix of the magic; read more before deciding.
	FirstMore
	// FirstBad: starts like the magic (NUL) but is not it: close.
	FirstBad
)

// ClassifyFirst tells what chunk, the first bytes read from a dialer, is.
// For FirstNative, rest is what follows the magic (the start of TLS).
func ClassifyFirst(chunk []byte) (kind First, rest []byte) {
	if len(chunk) == 0 || chunk[0] != Magic[0] {
		return FirstPlain, nil
	}
	if len(chunk) < len(Magic) {
		if bytes.HasPrefix([]byte(Magic), chunk) {
			return FirstMore, nil
		}
		return FirstBad, nil
	}
	if string(chunk[:len(Magic)]) != Magic {
		return FirstBad, nil
	}
	return FirstNative, chunk[len(Magic):]
}
