package native

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Frame types.
const (
	TypeData  byte = 1 // an application message
	TypePing  byte = 2 // heartbeat
	TypePong  byte = 3 // answer to a ping
	TypeHello byte = 4 // the first frame each side sends inside TLS
	TypeExt   byte = 5 // a frame of an extension protocol (see ext.go)
)

// HeaderSize is the length of a frame header: u32 body length (big endian),
// type, flags.
const HeaderSize = 6

// Flags: the low two bits hold the codec of a compressed body (the values
// of wire.Compression: 0 none, 1 zlib, 2 bzip2, 3 lzma); the others must be
// zero.
const (
	FlagCodecMask byte = 0x03
	flagsKnown         = FlagCodecMask
)

// Version is the native protocol version a node announces in its hello.
const Version = 1

// ErrBadHeader is returned for a header a peer may not send.
var ErrBadHeader = errors.New("native: bad frame header")

// Header is a decoded frame header.
type Header struct {
	Length int // of the body that follows
	Type   byte
	Flags  byte
}

// Codec is the compression of the body (0 for none).
func (h Header) Codec() int { return int(h.Flags & FlagCodecMask) }

// AppendHeader appends the header of a frame whose body is length bytes.
func AppendHeader(dst []byte, length int, typ, flags byte) []byte {
	return append(binary.BigEndian.AppendUint32(dst, uint32(length)), typ, flags)
}

// PutHeader writes the header into b[:HeaderSize].
func PutHeader(b []byte, length int, typ, flags byte) {
	binary.BigEndian.PutUint32(b, uint32(length))
	b[4], b[5] = typ, flags
}

// AppendFrame appends a whole frame: header and body.
func AppendFrame(dst []byte, typ, flags byte, body []byte) []byte {
	return append(AppendHeader(dst, len(body), typ, flags), body...)
}

// ParseHeader decodes b[:HeaderSize] and checks it against maxBody: a frame
// over the limit, of an unknown type or with unknown flags is refused, so
// that the reader never allocates for it.
func ParseHeader(b []byte, maxBody int) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: %d bytes", ErrBadHeader, len(b))
	}
	n := binary.BigEndian.Uint32(b)
	h := Header{Length: int(n), Type: b[4], Flags: b[5]}
	if uint64(n) > uint64(maxBody) {
		return h, fmt.Errorf("%w: body of %d bytes is over the limit of %d", ErrBadHeader, n, maxBody)
	}
	if h.Type < TypeData || h.Type > TypeExt {
		return h, fmt.Errorf("%w: unknown type %d", ErrBadHeader, h.Type)
	}
	if h.Flags&^flagsKnown != 0 || (h.Type != TypeData && h.Flags != 0) {
		return h, fmt.Errorf("%w: flags %#x on type %d", ErrBadHeader, h.Flags, h.Type)
	}
	return h, nil
}

// FrameCount counts the whole frames in the first wrote bytes of b, which
// holds whole frames only, and their bytes.
func FrameCount(b []byte, wrote int) (frames, size int) {
	for len(b) >= HeaderSize {
		l := HeaderSize + int(binary.BigEndian.Uint32(b))
		if l > len(b) || l > wrote {
			break
		}
		frames++
		size += l
		wrote -= l
		b = b[l:]
	}
	return frames, size
}

// Hello is the first frame each side sends inside TLS: who it claims to be
// and what it can do. Unknown fields and capabilities are ignored, so that
// later versions can add them.
type Hello struct {
	ID      string   `json:"id"`
	Port    int      `json:"port"`
	Version int      `json:"version"`
	Caps    []string `json:"caps,omitempty"`
	// HeartbeatMillis is the sender's heartbeat interval.
	HeartbeatMillis int64 `json:"heartbeat_ms"`
}

// MaxHelloSize bounds a hello frame's body.
const MaxHelloSize = 16 << 10

// EncodeHello makes the hello frame.
func EncodeHello(h Hello) ([]byte, error) {
	body, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("native: encode hello: %w", err)
	}
	if len(body) > MaxHelloSize {
		return nil, fmt.Errorf("native: hello of %d bytes is over %d", len(body), MaxHelloSize)
	}
	return AppendFrame(nil, TypeHello, 0, body), nil
}

// DecodeHello parses a hello body.
func DecodeHello(body []byte) (Hello, error) {
	var h Hello
	if err := json.Unmarshal(body, &h); err != nil {
		return h, fmt.Errorf("native: bad hello: %w", err)
	}
	if h.ID == "" || h.Port < 0 || h.Port > 65535 || h.Version < 1 {
		return h, fmt.Errorf("native: bad hello: id %q, port %d, version %d", h.ID, h.Port, h.Version)
	}
	return h, nil
}
