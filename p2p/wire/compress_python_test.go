package wire_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p/wire"
)

// pythonRoundTrip is run by TestCodecsAgainstPython: for each case file
// NAME.CODEC.payload it decodes NAME.CODEC.go (our body) with Python's own
// module, fails when it is not the payload, and writes Python's body of the
// payload to NAME.CODEC.py, as a p2pnetwork 1.2 peer would compress it.
const pythonRoundTrip = `
import bz2, lzma, os, sys, zlib
comp = {"zlib": lambda d: zlib.compress(d, 6), "bzip2": bz2.compress, "lzma": lzma.compress}
dec = {"zlib": zlib.decompress, "bzip2": bz2.decompress, "lzma": lzma.decompress}
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    if not name.endswith(".payload"):
        continue
    base = os.path.join(d, name[:-len(".payload")])
    codec = base.rsplit(".", 1)[1]
    payload = open(base + ".payload", "rb").read()
    got = dec[codec](open(base + ".go", "rb").read())
    if got != payload:
        sys.exit("%s: Python decoded %d bytes, not the %d-byte payload" % (base, len(got), len(payload)))
    open(base + ".py", "wb").write(comp[codec](payload))
`

// codecPayloads are the shapes a codec must survive: nothing, one byte,
// text, incompressible bytes, long runs (bzip2's first run-length stage),
// a periodic text (equal rotations in the BWT) and, for bzip2, more than
// one 900 kB block.
func codecPayloads() map[string][]byte {
	rng := rand.New(rand.NewPCG(7, 8))
	random := make([]byte, 100<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var runs []byte
	for i := range 300 {
		runs = append(runs, bytes.Repeat([]byte{byte(i % 7)}, i%300)...)
	}
	return map[string][]byte{
		"empty":    {},
		"one":      {'x'},
		"text":     benchText(64 << 10),
		"random":   random,
		"runs":     runs,
		"zeros":    make([]byte, 70000),
		"periodic": bytes.Repeat([]byte("abcab"), 20000),
		"big":      benchText(1200 << 10),
	}
}

// TestCodecsAgainstPython checks the wire bodies both ways against
// CPython's zlib, bz2 and lzma, which p2pnetwork 1.2 uses: Python decodes
// what we compress, and we decode what Python compresses.
func TestCodecsAgainstPython(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	dir := t.TempDir()
	payloads := codecPayloads()
	for name, p := range payloads {
		for _, c := range codecs[1:] {
			body, err := wire.Compress(p, c)
			require.NoError(t, err, "%s %v", name, c)
			body = body[:len(body)-len(c.String())]
			base := filepath.Join(dir, fmt.Sprintf("%s.%v", name, c))
			require.NoError(t, os.WriteFile(base+".payload", p, 0o644))
			require.NoError(t, os.WriteFile(base+".go", body, 0o644))
		}
	}
	out, err := exec.Command(python, "-c", pythonRoundTrip, dir).CombinedOutput()
	require.NoError(t, err, "Python decoding our bodies: %s", out)
	for name, p := range payloads {
		for _, c := range codecs[1:] {
			body, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s.%v.py", name, c)))
			require.NoError(t, err)
			got, err := wire.Decompress(body, c, len(p))
			require.NoError(t, err, "%s: decoding Python's %v body", name, c)
			require.True(t, bytes.Equal(p, got), "%s: Python's %v body decodes to other bytes", name, c)
			if len(p) > 1 { // a limit of 0 is no limit
				_, err = wire.Decompress(body, c, len(p)-1)
				require.ErrorIs(t, err, wire.ErrTooLarge, "%s %v: one byte over the limit", name, c)
			}
		}
	}
}
