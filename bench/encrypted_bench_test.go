package bench

import (
	"bytes"
	"testing"

	"github.com/p2pnode/p2pnode/p2p"
)

// BenchmarkEncrypted measures the native protocol (TLS 1.3, length-prefixed
// frames) against the plaintext protocol in the same run, interleaved run by
// run: the 64 B stream and 16 MiB messages, with the ratios (goal 0.8 and
// 0.7).
func BenchmarkEncrypted(b *testing.B) {
	n := envInt("BENCH_STREAM_MSGS", 2_000_000)
	nLarge := envInt("BENCH_LARGE_MSGS", 24)
	small := textPayload(64)
	large := bytes.Repeat([]byte{'a'}, 16<<20)
	for i := 0; i < b.N; i++ {
		var plain, tls, plainL, tlsL []float64
		for r := 0; r < streamRuns; r++ {
			rate, _ := nodeStreamMode(b, n, small, p2p.EncryptionOff)
			plain = append(plain, rate)
			rate, _ = nodeStreamMode(b, n, small, p2p.EncryptionPreferred)
			tls = append(tls, rate)
			plainL = append(plainL, nodeLargeMode(b, nLarge, large, p2p.EncryptionOff))
			tlsL = append(tlsL, nodeLargeMode(b, nLarge, large, p2p.EncryptionPreferred))
		}
		record(b, "go_stream_plain", median(plain), "plain-msg/s")
		record(b, "go_stream_tls", median(tls), "tls-msg/s")
		record(b, "go_stream_tls_ratio", median(tls)/median(plain), "x-stream")
		record(b, "go_large_plain", median(plainL)/1e9, "plain-GB/s")
		record(b, "go_large_tls", median(tlsL)/1e9, "tls-GB/s")
		record(b, "go_large_tls_ratio", median(tlsL)/median(plainL), "x-large")
	}
}
