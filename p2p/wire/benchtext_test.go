package wire

import (
	"bytes"
	"math/rand/v2"
	"strings"
)

// BenchText is the bench's 64 KiB English-like text (bench/bench_test.go
// compressibleText) at length n, so that the codec figures here match the
// bench's codec row. Exported to this package's external tests.
func BenchText(n int) []byte {
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
