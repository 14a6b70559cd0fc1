package wire_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/p2pnode/p2pnode/p2p/wire"
)

// benchText is the bench's 64 KiB English-like text (bench/bench_test.go
// compressibleText), so that these figures match the bench's codec row.
func benchText(n int) []byte {
	words := strings.Fields("the quick brown fox jumps over the lazy dog peer to peer network node message " +
		"connection event handler python reference frame compression zlib bzip2 lzma stream " +
		"latency throughput benchmark library binding socket buffer queue writer reader")
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	for buf.Len() < n {
		buf.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(12) == 0 {
			buf.WriteString(".\n")
		} else {
			buf.WriteByte(' ')
		}
	}
	return buf.Bytes()[:n]
}

func BenchmarkCompress(b *testing.B) {
	text := benchText(64 << 10)
	for _, c := range codecs[1:] {
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := wire.Compress(text, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecompress(b *testing.B) {
	text := benchText(64 << 10)
	for _, c := range codecs[1:] {
		body, err := wire.Compress(text, c)
		if err != nil {
			b.Fatal(err)
		}
		body = body[:len(body)-len(c.String())]
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := wire.Decompress(body, c, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestWriteBenchText(t *testing.T) {
	if p := os.Getenv("BENCH_TEXT_OUT"); p != "" {
		os.WriteFile(p, benchText(64<<10), 0o644)
	}
}

func TestBenchTextSizes(t *testing.T) {
	text := benchText(64 << 10)
	for _, c := range codecs[1:] {
		b, _ := wire.Compress(text, c)
		t.Logf("%v: %d bytes", c, len(b)-len(c.String()))
	}
}
