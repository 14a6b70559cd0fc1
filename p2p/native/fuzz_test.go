package native

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzClassifyFirst: whatever a dialer sends first, the listener's
// classification never panics, takes the magic only when it is there whole,
// and never takes a p2pnetwork hello (UTF-8 text) for anything but plain.
func FuzzClassifyFirst(f *testing.F) {
	f.Add([]byte(Magic))
	f.Add([]byte(Magic + "\x16\x03\x01"))
	f.Add([]byte(Magic[:4]))
	f.Add([]byte("\x00nope"))
	f.Add([]byte("node-id:8001"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, chunk []byte) {
		kind, rest := ClassifyFirst(chunk)
		switch kind {
		case FirstNative:
			require.True(t, bytes.HasPrefix(chunk, []byte(Magic)))
			require.Equal(t, chunk[len(Magic):], rest)
		case FirstMore:
			require.Less(t, len(chunk), len(Magic))
			require.True(t, bytes.HasPrefix([]byte(Magic), chunk))
		case FirstPlain:
			require.True(t, len(chunk) == 0 || chunk[0] != 0)
		case FirstBad:
			require.Equal(t, byte(0), chunk[0])
		}
	})
}

// FuzzFrameDecoder reads a stream of frames as the node's reader does:
// headers checked against the limit before any allocation, bodies read
// whole, nothing panics, and what AppendFrame wrote reads back the same.
func FuzzFrameDecoder(f *testing.F) {
	f.Add(AppendFrame(nil, TypeData, 0, []byte("hello")))
	f.Add(append(AppendFrame(nil, TypePing, 0, nil), AppendFrame(nil, TypeData, 1, []byte{1, 2, 3})...))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 0})
	f.Add([]byte{0, 0, 0, 1, 9, 0, 0})
	f.Add([]byte{0, 0, 0, 0, 2, 1})
	hello, _ := EncodeHello(Hello{ID: "x", Port: 1, Version: 1, Caps: []string{"future"}})
	f.Add(hello)
	const limit = 1 << 16
	f.Fuzz(func(t *testing.T, stream []byte) {
		br := bufio.NewReader(bytes.NewReader(stream))
		var hdr [HeaderSize]byte
		var out []byte
		for {
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				break
			}
			h, err := ParseHeader(hdr[:], limit)
			if err != nil {
				return
			}
			require.LessOrEqual(t, h.Length, limit)
			body := make([]byte, h.Length)
			if _, err := io.ReadFull(br, body); err != nil {
				return
			}
			if h.Type == TypeHello {
				_, _ = DecodeHello(body)
			}
			out = AppendFrame(out, h.Type, h.Flags, body)
		}
		// Every whole frame read re-encodes to the bytes it came from.
		require.True(t, bytes.Equal(stream[:len(out)], out))
		frames, size := FrameCount(out, len(out))
		require.Equal(t, len(out), size)
		_ = frames
	})
}

// FuzzRecordOpen reads a stream of sealed records as a sealed connection
// does: lengths checked before anything is read on, nothing panics, and
// nothing but the records the dialer's cipher sealed opens (a forged or
// altered record fails with ErrRecord, and the stream ends there).
func FuzzRecordOpen(f *testing.F) {
	seal, _, err := NewRecordCiphers(testExporter(3), true)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := seal.Seal(nil, []byte("a frame"))
	good, _ = seal.Seal(good, nil)
	f.Add(good, -1)
	f.Add(good, 5)
	f.Add([]byte{0, 0, 0, 16}, -1)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, -1)
	f.Fuzz(func(t *testing.T, stream []byte, flip int) {
		if flip >= 0 && flip < len(stream) {
			stream = bytes.Clone(stream)
			stream[flip] ^= 0x20
		}
		// The listener's open reads what the dialer's seal wrote.
		_, open, err := NewRecordCiphers(testExporter(3), false)
		require.NoError(t, err)
		var plain []byte
		for len(stream) >= RecordHeaderSize {
			n, err := RecordLength(stream)
			if err != nil {
				require.ErrorIs(t, err, ErrRecord)
				return
			}
			require.LessOrEqual(t, n, MaxRecordPlain+RecordTagSize)
			if len(stream) < RecordHeaderSize+n {
				return
			}
			out, err := open.Open(plain, stream[:RecordHeaderSize+n])
			if err != nil {
				require.ErrorIs(t, err, ErrRecord)
				return
			}
			plain = out
			stream = stream[RecordHeaderSize+n:]
		}
		// What opened is a prefix of what was sealed.
		require.True(t, bytes.HasPrefix([]byte("a frame"), plain) || len(plain) == 0, "opened %q", plain)
	})
}
