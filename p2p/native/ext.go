package native

import (
	"errors"
	"fmt"
)

// An extension frame (TypeExt) carries the frame of a protocol layered on
// the native one, such as peer exchange ("pex/1") or gossip ("gossip/1").
// Its body names the capability, so that a frame is never handed to the
// wrong engine:
//
//	+-----------------+-------------------+---------------+
//	| name length (u8)| capability (name) | payload       |
//	+-----------------+-------------------+---------------+
//
// A node sends one only to a peer that announced the capability in its
// hello; a p2pnetwork peer or a plaintext one never gets one.

// MaxCapabilityLen bounds a capability name.
const MaxCapabilityLen = 64

// ErrBadExt is returned for an extension frame that does not parse.
var ErrBadExt = errors.New("native: bad extension frame")

// AppendExt appends a whole extension frame (header included) carrying
// payload for capability name.
func AppendExt(dst []byte, name string, payload []byte) []byte {
	dst = AppendHeader(dst, 1+len(name)+len(payload), TypeExt, 0)
	dst = append(dst, byte(len(name)))
	dst = append(dst, name...)
	return append(dst, payload...)
}

// ExtSize is the size of the whole extension frame for name and a payload
// of n bytes.
func ExtSize(name string, n int) int { return HeaderSize + 1 + len(name) + n }

// SplitExt splits an extension frame's body into its capability and its
// payload (which aliases body).
func SplitExt(body []byte) (string, []byte, error) {
	if len(body) < 1 {
		return "", nil, fmt.Errorf("%w: empty", ErrBadExt)
	}
	k := int(body[0])
	if k == 0 || k > MaxCapabilityLen || len(body) < 1+k {
		return "", nil, fmt.Errorf("%w: capability name of %d bytes in a body of %d", ErrBadExt, k, len(body))
	}
	return string(body[1 : 1+k]), body[1+k:], nil
}
