package wire_test

import (
	"bytes"
	stdbzip2 "compress/bzip2"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	dbzip2 "github.com/dsnet/compress/bzip2"
	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p/wire"
)

// stdBzip2 decodes body with compress/bzip2, to at most max bytes.
func stdBzip2(body []byte, max int) ([]byte, error) {
	return io.ReadAll(io.LimitReader(stdbzip2.NewReader(bytes.NewReader(body)), int64(max)+1))
}

// dsnetBzip2 decodes body with dsnet/compress, to at most max bytes.
func dsnetBzip2(body []byte, max int) ([]byte, error) {
	r, err := dbzip2.NewReader(bytes.NewReader(body), nil)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(r, int64(max)+1))
}

// dsnetBody is dsnet's bzip2 stream of p at level: the only Go encoder of
// levels below 9.
func dsnetBody(t testing.TB, p []byte, level int) []byte {
	var b bytes.Buffer
	w, err := dbzip2.NewWriter(&b, &dbzip2.WriterConfig{Level: level})
	require.NoError(t, err)
	_, err = w.Write(p)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return b.Bytes()
}

// requireBzip2Same checks that our decoder and compress/bzip2 both read
// body as want, and that our decoder stops one byte short of it.
func requireBzip2Same(t testing.TB, name string, body, want []byte) {
	got, err := wire.Decompress(body, wire.CompressionBzip2, max(len(want), 1))
	require.NoError(t, err, name)
	require.True(t, bytes.Equal(want, got), "%s: ours decodes %d bytes of %d, other bytes", name, len(got), len(want))
	std, err := stdBzip2(body, len(want))
	require.NoError(t, err, "%s: compress/bzip2", name)
	require.True(t, bytes.Equal(want, std), "%s: compress/bzip2 decodes other bytes", name)
	if len(want) > 1 {
		_, err = wire.Decompress(body, wire.CompressionBzip2, len(want)-1)
		require.ErrorIs(t, err, wire.ErrTooLarge, "%s: one byte over the limit", name)
	}
}

// TestBzip2DecoderLevels decodes our encoder's bodies (level 9) and dsnet's
// at every level (blocks of 100 to 900 kB: the shapes of more than 100 kB
// cross block boundaries at the low levels), as compress/bzip2 does.
func TestBzip2DecoderLevels(t *testing.T) {
	shapes := bzip2Shapes()
	for name, p := range shapes {
		requireBzip2Same(t, name+"/ours", bzip2Body(t, p), p)
	}
	for _, name := range []string{"empty", "one", "text", "random", "runs", "periodic", "big", "blockedge", "bigruns"} {
		for _, level := range bzip2Levels(shapes[name]) {
			requireBzip2Same(t, fmt.Sprintf("%s/dsnet-%d", name, level), dsnetBody(t, shapes[name], level), shapes[name])
		}
	}
}

// bzip2Levels are the levels to try on p: all on small payloads, and on
// large ones those whose blocks cut it differently (100, 300 and 900 kB).
func bzip2Levels(p []byte) []int {
	if len(p) < 100<<10 {
		return []int{1, 2, 3, 4, 5, 6, 7, 8, 9}
	}
	return []int{1, 3, 9}
}

// TestBzip2DecoderConcatenated reads streams one after the other (as
// compress/bzip2 and Python's bz2 do) and refuses bytes after the last
// that do not make a stream.
func TestBzip2DecoderConcatenated(t *testing.T) {
	a, b := benchText(3000), bytes.Repeat([]byte{'z'}, 1000)
	two := append(bzip2Body(t, a), dsnetBody(t, b, 1)...)
	requireBzip2Same(t, "two", two, append(bytes.Clone(a), b...))
	three := append(bytes.Clone(two), bzip2Body(t, nil)...)
	requireBzip2Same(t, "with an empty stream", three, append(bytes.Clone(a), b...))
	for name, tail := range map[string]string{
		"garbage":      "garbage",
		"zero":         "\x00",
		"header only":  "BZh9",
		"bad level":    "BZh0",
		"no h":         "BZ",
		"half a magic": "BZh91AY",
	} {
		_, err := wire.Decompress(append(bzip2Body(t, a), tail...), wire.CompressionBzip2, 1<<20)
		require.ErrorIs(t, err, wire.ErrCorrupt, name)
	}
}

// pythonBzip2 is run by TestBzip2DecoderAgainstPython: it writes, for each
// NAME.payload in the directory, NAME.LEVEL.bz2 at every level, and a
// concatenation of two streams.
const pythonBzip2 = `
import bz2, os, sys
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    if name.endswith(".payload"):
        p = open(os.path.join(d, name), "rb").read()
        for level in (range(1, 10) if len(p) < 100 << 10 else (1, 3, 9)):
            open(os.path.join(d, "%s.%d.bz2" % (name[:-8], level)), "wb").write(bz2.compress(p, level))
open(os.path.join(d, "concat.bz2"), "wb").write(bz2.compress(b"first ", 1) + bz2.compress(b"second", 9))
c = bz2.BZ2Compressor(9)
parts = [c.compress(b"x" * 5000), c.compress(bytes(range(256)) * 50), c.flush()]
open(os.path.join(d, "incremental.bz2"), "wb").write(b"".join(parts))
`

// TestBzip2DecoderAgainstPython decodes what CPython's bz2 (libbz2, as
// p2pnetwork 1.2 peers use it) makes at every level, as compress/bzip2
// does.
func TestBzip2DecoderAgainstPython(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	dir := t.TempDir()
	payloads := bzip2Shapes()
	for name, p := range payloads {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+".payload"), p, 0o644))
	}
	out, err := exec.Command(python, "-c", pythonBzip2, dir).CombinedOutput()
	require.NoError(t, err, "Python: %s", out)
	for name, p := range payloads {
		for _, level := range bzip2Levels(p) {
			body, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s.%d.bz2", name, level)))
			require.NoError(t, err)
			requireBzip2Same(t, fmt.Sprintf("%s/python-%d", name, level), body, p)
		}
	}
	body, err := os.ReadFile(filepath.Join(dir, "concat.bz2"))
	require.NoError(t, err)
	requireBzip2Same(t, "python concat", body, []byte("first second"))
	body, err = os.ReadFile(filepath.Join(dir, "incremental.bz2"))
	require.NoError(t, err)
	requireBzip2Same(t, "python incremental", body, append(bytes.Repeat([]byte{'x'}, 5000), bytes.Repeat(allBytes(), 50)...))
}

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// endCRCBit returns the bit offset in body of the stream's CRC (after the
// end-of-stream magic), found by the magic before it.
func endCRCBit(t testing.TB, body []byte) int {
	bit := func(i int) uint64 { return uint64(body[i/8]>>(7-i%8)) & 1 }
	for pad := range 8 {
		crcAt := 8*len(body) - pad - 32
		var magic uint64
		for i := crcAt - 48; i < crcAt; i++ {
			magic = magic<<1 | bit(i)
		}
		if magic == 0x177245385090 {
			return crcAt
		}
	}
	t.Fatal("no end-of-stream magic")
	return 0
}

// TestBzip2DecoderRejects checks that bad input is an error (ErrCorrupt),
// never a panic or other bytes: checksums, truncation, every bit flipped,
// headers, randomised blocks.
func TestBzip2DecoderRejects(t *testing.T) {
	text := benchText(2000)
	body := bzip2Body(t, text)
	corrupt := func(name string, b []byte) {
		t.Helper()
		out, err := wire.Decompress(b, wire.CompressionBzip2, 1<<20)
		require.ErrorIs(t, err, wire.ErrCorrupt, "%s: %d bytes out", name, len(out))
		_, err = stdBzip2(b, 1<<20)
		require.Error(t, err, "%s: compress/bzip2 accepts it", name)
	}
	// The first block's CRC is bytes 10 to 13 (after "BZh9" and the magic).
	for i := 10; i < 14; i++ {
		b := bytes.Clone(body)
		b[i] ^= 0x10
		corrupt(fmt.Sprintf("block CRC byte %d", i), b)
	}
	crc := endCRCBit(t, body)
	for i := crc; i < crc+32; i += 7 {
		b := bytes.Clone(body)
		b[i/8] ^= 0x80 >> (i % 8)
		corrupt(fmt.Sprintf("stream CRC bit %d", i-crc), b)
	}
	b := bytes.Clone(body)
	b[14] |= 0x80 // the randomised flag
	_, err := wire.Decompress(b, wire.CompressionBzip2, 1<<20)
	require.ErrorContains(t, err, "randomised")
	for i := range len(body) {
		corrupt(fmt.Sprintf("truncated to %d bytes", i), body[:i])
	}
	for name, h := range map[string]string{"no magic": "XYh9", "level 0": "BZh0", "level :": "BZh:", "not Huffman": "BZ09"} {
		corrupt(name, append([]byte(h), body[4:]...))
	}
	// Any bit flipped: an error, or (a bit no decoder reads: the last
	// byte's padding, a table no group uses) the same bytes.
	for i := range 8 * len(body) {
		b := bytes.Clone(body)
		b[i/8] ^= 0x80 >> (i % 8)
		out, err := wire.Decompress(b, wire.CompressionBzip2, 1<<20)
		if err != nil {
			require.ErrorIs(t, err, wire.ErrCorrupt, "bit %d", i)
			continue
		}
		require.True(t, bytes.Equal(text, out), "bit %d flipped: other bytes and no error", i)
	}
}

// TestBzip2DecoderLimit checks that a bomb (64 MiB of zeros are 79 bytes of
// dsnet's bzip2) stops at the limit, having allocated little more than the
// output's doublings up to the limit (under 2.5 times it) and a block's
// scratch (9 bytes a byte: 8.1 MB at level 9, when the pool is empty).
func TestBzip2DecoderLimit(t *testing.T) {
	body := dsnetBody(t, make([]byte, 64<<20), 9)
	t.Logf("64 MiB of zeros: %d bytes", len(body))
	for _, limit := range []int{1, 1000, 1 << 20, 10 << 20} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		out, err := wire.Decompress(body, wire.CompressionBzip2, limit)
		runtime.ReadMemStats(&after)
		require.ErrorIs(t, err, wire.ErrTooLarge, "limit %d", limit)
		require.Nil(t, out)
		used := after.TotalAlloc - before.TotalAlloc
		require.Less(t, used, uint64(3*limit+12<<20), "limit %d: allocated %d bytes", limit, used)
	}
	// Runs that end exactly at the limit, and one byte past it.
	p := bytes.Repeat([]byte{'a'}, 259*4)
	requireBzip2Same(t, "runs", bzip2Body(t, p), p)
}

// FuzzBzip2Decode decodes arbitrary bodies with our decoder and with
// compress/bzip2: never a panic, both an error or both the same bytes (to
// the limit). Where a Huffman table is degenerate, which no encoder makes
// and which compress/bzip2 reads its own way, dsnet/compress (which reads
// them as libbz2 does) is the reference instead. The body is also
// compressed with our encoder and must come back.
func FuzzBzip2Decode(f *testing.F) {
	const limit = 1 << 20
	for _, p := range [][]byte{nil, []byte("x"), []byte("aaaab"), bytes.Repeat([]byte("ab"), 300), benchText(4000), allBytes()} {
		f.Add(bzip2Body(f, p))
		f.Add(dsnetBody(f, p, 1))
	}
	f.Add(append(bzip2Body(f, []byte("one")), bzip2Body(f, []byte("two"))...))
	f.Fuzz(func(t *testing.T, body []byte) {
		ours, degenerate, err := wire.Bzip2Decode(body, limit)
		ref, name := stdBzip2, "compress/bzip2"
		if degenerate {
			ref, name = dsnetBzip2, "dsnet/compress"
		}
		want, wantErr := ref(body, limit)
		if wantErr == nil && len(want) > limit {
			// Both decode a block whole, then check its CRC as its bytes
			// go out: past the limit before either finds more.
			require.ErrorIs(t, err, wire.ErrBzip2Limit, "%s made %d bytes", name, len(want))
		} else {
			require.Equal(t, wantErr == nil, err == nil, "ours: %v; %s: %v", err, name, wantErr)
			if err == nil {
				require.True(t, bytes.Equal(ours, want), "%s decodes other bytes", name)
			}
		}
		if len(body) <= 1<<16 {
			back, err := wire.Decompress(bzip2Body(t, body), wire.CompressionBzip2, max(len(body), 1))
			require.NoError(t, err)
			require.True(t, bytes.Equal(body, back), "round trip")
		}
	})
}

// BenchmarkBzip2Decode decodes the bench's 64 KiB text (our encoder's
// body) with this package's decoder and, as baselines in the same run, with
// compress/bzip2 and dsnet/compress.
func BenchmarkBzip2Decode(b *testing.B) {
	text := benchText(64 << 10)
	body := bzip2Body(b, text)
	decoders := []struct {
		name string
		dec  func([]byte) ([]byte, error)
	}{
		{"wire", func(p []byte) ([]byte, error) { return wire.Decompress(p, wire.CompressionBzip2, 1<<20) }},
		{"stdlib", func(p []byte) ([]byte, error) { return stdBzip2(p, 1<<20) }},
		{"dsnet", func(p []byte) ([]byte, error) { return dsnetBzip2(p, 1<<20) }},
	}
	for _, d := range decoders {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				out, err := d.dec(body)
				if err != nil || len(out) != len(text) {
					b.Fatalf("%s: %d bytes, %v", d.name, len(out), err)
				}
			}
		})
	}
}
