package wire_test

import (
	"bytes"
	stdbzip2 "compress/bzip2"
	"io"
	"math/rand/v2"
	"testing"

	dbzip2 "github.com/dsnet/compress/bzip2"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p/wire"
)

// bzip2Body is our bzip2 body of p, without its tag.
func bzip2Body(t testing.TB, p []byte) []byte {
	body, err := wire.Compress(p, wire.CompressionBzip2)
	require.NoError(t, err)
	return body[:len(body)-len("bzip2")]
}

// requireBzip2Decodes checks that both Go decoders (the standard library's
// and dsnet's) read body back as p.
func requireBzip2Decodes(t testing.TB, name string, body, p []byte) {
	got, err := io.ReadAll(stdbzip2.NewReader(bytes.NewReader(body)))
	require.NoError(t, err, "%s: compress/bzip2", name)
	require.True(t, bytes.Equal(p, got), "%s: compress/bzip2 decodes %d bytes of %d, other bytes", name, len(got), len(p))
	dr, err := dbzip2.NewReader(bytes.NewReader(body), nil)
	require.NoError(t, err, "%s: dsnet", name)
	got, err = io.ReadAll(dr)
	require.NoError(t, err, "%s: dsnet", name)
	require.True(t, bytes.Equal(p, got), "%s: dsnet decodes %d bytes of %d, other bytes", name, len(got), len(p))
}

// bzip2Shapes adds to codecPayloads (which TestCodecsAgainstPython also
// sends through Python's bz2) shapes aimed at the encoder's stages: runs at
// the 4- and 255-byte edges of the first run-length stage, block
// boundaries, every byte value, few distinct symbols (two tables) and text
// that repeats itself for longer than the sort's wrap.
func bzip2Shapes() map[string][]byte {
	shapes := codecPayloads()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, r := range []int{3, 4, 5, 255, 256, 259, 260, 1000} {
		shapes["run"+string(rune('A'+len(shapes)))] = bytes.Repeat([]byte{'q'}, r)
	}
	all := make([]byte, 256*3)
	for i := range all {
		all[i] = byte(i)
	}
	shapes["allbytes"] = all
	shapes["two"] = []byte("ab")
	shapes["aaab"] = []byte("aaab")
	repeated := bytes.Repeat(benchText(3000), 40)
	shapes["longrepeat"] = repeated
	// Exactly at and around a block of run-length output.
	few := make([]byte, 900000-19+3)
	for i := range few {
		few[i] = "abc"[rng.IntN(3)]
	}
	shapes["blockedge"] = few
	shapes["blockedge-1"] = few[:900000-20]
	runs := make([]byte, 0, 2<<20)
	for len(runs) < 2<<20 {
		runs = append(runs, bytes.Repeat([]byte{byte(rng.IntN(4))}, 1+rng.IntN(600))...)
	}
	shapes["bigruns"] = runs
	return shapes
}

func TestBzip2EncoderRoundTrips(t *testing.T) {
	for name, p := range bzip2Shapes() {
		body := bzip2Body(t, p)
		requireBzip2Decodes(t, name, body, p)
		got, err := wire.Decompress(body, wire.CompressionBzip2, len(p))
		require.NoError(t, err, name)
		require.True(t, bytes.Equal(p, got), name)
	}
}

// TestBzip2EncoderSize keeps the encoder's output near libbz2's on the
// bench's text (8,176 bytes; dsnet's encoder made 10,002).
func TestBzip2EncoderSize(t *testing.T) {
	n := len(bzip2Body(t, benchText(64<<10)))
	t.Logf("bzip2 of the 64 KiB bench text: %d bytes", n)
	require.Less(t, n, 9000)
}

// FuzzBzip2Encode compresses arbitrary bytes: both Go decoders read them
// back.
func FuzzBzip2Encode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("x"))
	f.Add([]byte("aaaaaaaab"))
	f.Add(bytes.Repeat([]byte("abcab"), 100))
	f.Add(benchText(2000))
	f.Fuzz(func(t *testing.T, p []byte) {
		requireBzip2Decodes(t, "fuzz", bzip2Body(t, p), p)
	})
}
