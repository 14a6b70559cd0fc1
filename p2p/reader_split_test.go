package p2p

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p/wire"
)

// splitFrames are plaintext payloads whose UTF-8 validity, and kind, turn on
// bytes anywhere in them: runes of every length at the edges of the reader's
// 32 KiB search blocks, broken sequences near the end, JSON, a payload that
// travels compressed, and a large frame twice (the second is read into a
// buffer of its size, after the first's).
func splitFrames() [][]byte {
	text := func(n int, at map[int]string) []byte {
		b := []byte(strings.Repeat("abcdefghijklmnopqrstuvwxyz 0123456789\n", n/38+1)[:n])
		for off, s := range at {
			if off+len(s) <= n {
				copy(b[off:], s)
			}
		}
		return b
	}
	runes := map[int]string{}
	for i, r := range []string{"é", "€", "😀", "€", "😀", "é"} {
		runes[copyBlock-3+i*5] = r
		runes[2*copyBlock-4+i*4] = r
	}
	json := "[" + strings.Repeat("1, ", 14<<10) + "2]"
	withEOT := text(40<<10, nil)
	withEOT[33<<10] = wire.EOT
	compressed, err := wire.AppendFrame(nil, withEOT, wire.CompressionNone)
	if err != nil {
		panic(err)
	}
	big := text(300<<10, map[int]string{copyBlock - 1: "😀", 100 << 10: "€", 300<<10 - 4: "😀"})
	return [][]byte{
		[]byte("small"),
		text(70<<10, runes),
		append(text(45<<10, runes), 0xFF, 'x'),   // a stray byte near the end: bytes
		append(text(40<<10, runes), 0xE2, 0x82),  // a rune cut short at the end: bytes
		append(text(2*copyBlock-2, nil), "😀"...), // a 4-byte rune across a block edge
		[]byte(json),                             // JSON, past a block
		[]byte("tiny"), []byte("{\"k\": 1}"), []byte("é"),
		compressed[:len(compressed)-1], // a frame as wire carries it (EOT cut off)
		big, big,
		[]byte("after"),
	}
}

// feedReader runs the plaintext reader's loop (makeRoom, read, deliver)
// over stream, each read taking at most the next of sizes (cycled), and
// returns the messages delivered.
func feedReader(t *testing.T, n *Node, stream []byte, sizes []int) []Message {
	t.Helper()
	p := newPeer(n, nil, "split", "127.0.0.1", 1, Inbound)
	p.share = &addrShare{}
	r := frameReader{p: p, buf: make([]byte, readBufferMin)}
	var got []Message
	for k := 0; len(stream) > 0; k++ {
		r.makeRoom()
		room := len(r.buf) - r.w
		m := copy(r.buf[r.w:], stream[:min(len(stream), sizes[k%len(sizes)])])
		stream = stream[m:]
		r.w += m
		r.busy, r.lastRead = m == room, m
		require.NoError(t, r.deliver())
		q := n.events
		q.mu.Lock()
		items := q.items
		q.items = nil
		q.mu.Unlock()
		msgs := 0
		for _, it := range items {
			if b := it.msgs; b != nil {
				for i := range b.recs {
					var ev Event
					b.event(&ev, &b.recs[i])
					got = append(got, ev.Message)
					msgs++
				}
			}
		}
		q.done(items, msgs)
	}
	p.chargePending(&r.charged, 0)
	return got
}

// TestReaderFramesAcrossReadBoundaries: whatever the reads' boundaries,
// every frame arrives whole, in order, with the kind Classify gives its
// payload (the reader checks UTF-8 piece by piece as reads come): the
// stream is cut in two at offsets near every frame and block edge, and
// read in pieces of many sizes.
func TestReaderFramesAcrossReadBoundaries(t *testing.T) {
	n, err := New(Config{}, nil)
	require.NoError(t, err)
	frames := splitFrames()
	var stream []byte
	var want []Message
	var edges []int
	for _, f := range frames {
		stream = append(stream, f...)
		stream = append(stream, wire.EOT)
		pl, codec, err := wire.DecodeFrame(f, 0)
		require.NoError(t, err)
		want = append(want, Message{Kind: wire.Classify(pl), Data: pl, Compression: codec})
		for _, e := range []int{len(stream) - len(f) - 1, len(stream)} {
			for b := e; b < e+len(f)+1 && b < len(stream); b += copyBlock {
				edges = append(edges, b) // where the frame's search blocks start
			}
		}
	}
	check := func(what string, got []Message) {
		t.Helper()
		require.Equal(t, len(want), len(got), what)
		for i := range want {
			require.Equal(t, want[i].Kind, got[i].Kind, "%s: frame %d kind", what, i)
			require.Equal(t, want[i].Compression, got[i].Compression, "%s: frame %d codec", what, i)
			require.True(t, bytes.Equal(want[i].Data, got[i].Data), "%s: frame %d (%d bytes) differs", what, i, len(want[i].Data))
		}
	}
	for _, e := range edges {
		for cut := max(e-6, 1); cut <= e+6 && cut < len(stream); cut++ {
			check(fmt.Sprintf("cut at %d", cut), feedReader(t, n, stream, []int{cut, len(stream)}))
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sizes := range [][]int{{1 << 20}, {readBufferMax}, {4093}, {32<<10 + 1}, {1, 7, 100, 65 << 10}} {
		check(fmt.Sprintf("reads of %v", sizes), feedReader(t, n, stream, sizes))
	}
	for range 30 {
		sizes := make([]int, 8)
		for i := range sizes {
			sizes[i] = 1 + rng.IntN(80<<10)
		}
		check(fmt.Sprintf("reads of %v", sizes), feedReader(t, n, stream, sizes))
	}
	require.Zero(t, n.pendingTotal.Load(), "memory still charged")
}
