package wire

import (
	"strconv"
	"strings"
)

// MaxHandshake is how much the reference reads for an id: one recv of 4096
// bytes.
const MaxHandshake = 4096

// Closing is what a connecting reference node sends before it hangs up on a
// peer it is already connected with (or on itself).
const Closing = "CLOSING: Already having a connection together"

// Hello is what the connecting side sends first: "<id>:<listening port>".
func Hello(id string, port int) []byte {
	return []byte(id + ":" + strconv.Itoa(port))
}

// ParseHello reads the connecting side's hello as the reference does: text
// with exactly one ':' is "<id>:<port>"; anything else is all id, and the
// peer's port is its source port. A port part that is not a port number
// (the reference would keep it as text) also falls back to the source port.
func ParseHello(hello []byte, sourcePort int) (id string, port int) {
	text := string(hello)
	if strings.Count(text, ":") != 1 {
		return text, sourcePort
	}
	id, p, _ := strings.Cut(text, ":")
	n, err := strconv.Atoi(strings.TrimSpace(p))
	if err != nil || n < 0 || n > 65535 {
		return id, sourcePort
	}
	return id, n
}

// defaultIDLen is the length of the reference's generated ids (SHA-512 hex).
const defaultIDLen = 128

// SplitReply splits the accepting side's reply into its id and whatever
// followed it in the same read. The reference sends its id and may send a
// first message right after it, so the two can arrive glued together. There
// is no delimiter, so the split is made where ids are known: a reply that
// starts with 128 lowercase hex characters (a generated id) and goes on is
// split after them. In every other case the whole chunk is the id, as the
// reference reads it; a longer custom id that starts with 128 hex characters
// would be misread, which is the price of not losing glued messages.
func SplitReply(chunk []byte) (id string, rest []byte) {
	if len(chunk) > defaultIDLen && isLowerHex(chunk[:defaultIDLen]) {
		return string(chunk[:defaultIDLen]), chunk[defaultIDLen:]
	}
	return string(chunk), nil
}

func isLowerHex(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
