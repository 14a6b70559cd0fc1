package p2p_test

import (
	"bytes"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

// patterned is n bytes that differ from message to message (i), with no
// EOT and no mark, so that both protocols carry them raw.
func patterned(i, n int) []byte {
	b := make([]byte, n)
	for k := range b {
		b[k] = byte('A' + (i+k/4093)%26)
	}
	return b
}

// readerSizes walk across the readers' thresholds: a chunk, the in-place
// limit of the native reader, the plaintext read buffer, a frame larger
// than the last large one and then smaller ones (the size hint), and small
// frames after a large one in the same buffer.
var readerSizes = []int{
	100, 32<<10 - 7, 64 << 10, 64<<10 + 1, 256<<10 - 1, 256 << 10, 300 << 10,
	3 << 20, 1 << 20, 5<<20 + 3, 5<<20 + 3, 64, 2 << 20, 70, 5, 4 << 20,
}

// TestLargeFramesOfChangingSizes: frames of every size class arrive whole
// and in order in both protocols, and what was delivered stays as it was
// while later frames are read (the readers hand out slices of their read
// buffers).
func TestLargeFramesOfChangingSizes(t *testing.T) {
	for _, mode := range []p2p.Encryption{p2p.EncryptionOff, p2p.EncryptionPreferred} {
		t.Run(mode.String(), func(t *testing.T) {
			ra := &recorder{}
			a := startNode(t, nativeCfg(mode), &recorder{})
			b := startNode(t, nativeCfg(mode), ra)
			out, _ := pair(t, a, b)
			require.Equal(t, mode != p2p.EncryptionOff, out.Encrypted())
			var want [][]byte
			for i, n := range readerSizes {
				pl := patterned(i, n)
				want = append(want, pl)
				require.NoError(t, out.Send(pl, p2p.None))
			}
			// One batch of small ones, as SendMany queues them together.
			var batch [][]byte
			for i := range 200 {
				batch = append(batch, []byte("small "+strconv.Itoa(i)))
			}
			_, err := out.SendMany(batch, p2p.None)
			require.NoError(t, err)
			want = append(want, batch...)
			// A large one holding EOT: the plaintext protocol carries it
			// compressed, and both report zlib.
			withEOT := patterned(99, 700<<10)
			withEOT[500<<10] = wire.EOT
			require.NoError(t, out.Send(withEOT, p2p.None))
			want = append(want, withEOT)
			eventually(t, "every message", func() bool { return len(ra.messages()) == len(want) })
			for i, m := range ra.messages() {
				require.True(t, bytes.Equal(want[i], m.Data), "message %d (%d bytes) differs", i, len(want[i]))
				codec := wire.CompressionNone
				if i == len(want)-1 {
					codec = wire.CompressionZlib
				}
				assert.Equal(t, codec, m.Compression, "message %d", i)
			}
		})
	}
}

// TestIdleReaderWakesForEachMessage: a plaintext reader that waits without
// a buffer between messages (the stream is quiet each time) reads each one
// as it comes, and frames that come in pieces.
func TestIdleReaderWakesForEachMessage(t *testing.T) {
	r := &recorder{}
	n := startNode(t, p2p.Config{}, r)
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port())))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("idle-peer:1"))
	require.NoError(t, err)
	_, err = c.Read(make([]byte, 4096))
	require.NoError(t, err)
	for i := range 40 {
		msg := fmt.Sprintf("message %d", i)
		if i%2 == 0 {
			_, err = c.Write(append([]byte(msg), wire.EOT))
			require.NoError(t, err)
		} else {
			// In two pieces: the reader may see the first alone, and then
			// waits with part of a frame pending.
			_, err = c.Write([]byte(msg[:3]))
			require.NoError(t, err)
			_, err = c.Write(append([]byte(msg[3:]), wire.EOT))
			require.NoError(t, err)
		}
		eventually(t, msg, func() bool { return len(r.messages()) == i+1 })
		require.Equal(t, msg, r.messages()[i].Text())
	}
}

// TestKindOfFramesInPieces: the plaintext reader classifies each frame in
// the pass that finds its end (wire.ScanFrame); a frame whose first piece
// arrives alone, with bytes that are not ASCII in it, is still classified
// by all of its bytes, and ASCII ones around it stay text or JSON.
func TestKindOfFramesInPieces(t *testing.T) {
	r := &recorder{}
	n := startNode(t, p2p.Config{}, r)
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port())))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("pieces-peer:1"))
	require.NoError(t, err)
	_, err = c.Read(make([]byte, 4096))
	require.NoError(t, err)
	long := string(bytes.Repeat([]byte("x"), 300))
	cases := []struct {
		pieces []string
		kind   p2p.Kind
	}{
		{[]string{"plain text"}, p2p.KindText},
		{[]string{"h\xc3", "\xa9llo"}, p2p.KindText},    // UTF-8 split between reads
		{[]string{"bad \xff", " bytes"}, p2p.KindBytes}, // not UTF-8, in the first piece
		{[]string{"ascii first", " then \xff"}, p2p.KindBytes},
		{[]string{`{"a":`, `"\u00e9 é"}`}, p2p.KindJSON},
		{[]string{"after", " the others"}, p2p.KindText}, // the flag does not stick
		{[]string{long + "\xff", long}, p2p.KindBytes},
		{[]string{long, long + "é"}, p2p.KindText},
		{[]string{"[1,", "2]"}, p2p.KindJSON},
	}
	for i, tc := range cases {
		for k, piece := range tc.pieces {
			b := []byte(piece)
			if k == len(tc.pieces)-1 {
				b = append(b, wire.EOT)
			}
			_, err = c.Write(b)
			require.NoError(t, err)
			if k < len(tc.pieces)-1 {
				// Let the reader see this piece alone, most of the time: a
				// round trip through the kernel (no timing is asserted).
				runtime.Gosched()
			}
		}
		eventually(t, fmt.Sprintf("message %d", i), func() bool { return len(r.messages()) == i+1 })
		m := r.messages()[i]
		var whole []byte
		for _, piece := range tc.pieces {
			whole = append(whole, piece...)
		}
		require.Equal(t, whole, m.Data, "message %d", i)
		assert.Equal(t, tc.kind, m.Kind, "message %d: %q", i, whole)
	}
	// All of them again in one write: the frames lie side by side in one
	// buffer and are told apart by the same pass.
	var all []byte
	for _, tc := range cases {
		for _, piece := range tc.pieces {
			all = append(all, piece...)
		}
		all = append(all, wire.EOT)
	}
	_, err = c.Write(all)
	require.NoError(t, err)
	eventually(t, "the second round", func() bool { return len(r.messages()) == 2*len(cases) })
	for i, tc := range cases {
		assert.Equal(t, tc.kind, r.messages()[len(cases)+i].Kind, "message %d of the second round", i)
	}
}
