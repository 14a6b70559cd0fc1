package overlay

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkSimulated1000 runs the 1,000-node scenario of TestSimulated1000
// (join from one bootstrap, 100 publishes to warm the tree, 100 measured)
// and reports its figures as metrics; times are simulated.
//
//	go test -run XXX -bench Simulated1000 -benchtime 1x ./p2p/overlay/
func BenchmarkSimulated1000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := newSimRun(b, scaleNodes, uint64(i+1), scaleK)
		r.converge(scaleK, 120*time.Second)
		r.subscribeAll()
		all := func(PeerID) bool { return true }
		r.publishBatch(100, 100*time.Millisecond, all)
		f := r.publishBatch(100, 100*time.Millisecond, all)
		runtime.GC()
		runtime.ReadMemStats(&after)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(ms(f.t50), "sim-ms-to-50%")
		b.ReportMetric(ms(f.t99), "sim-ms-to-99%")
		b.ReportMetric(ms(f.t100), "sim-ms-to-100%")
		b.ReportMetric(float64(f.hops50), "hops-p50")
		b.ReportMetric(float64(f.hops99), "hops-p99")
		b.ReportMetric(f.framesPerDelivery, "frames/delivery")
		b.ReportMetric(f.bytesPerDelivery, "bytes/delivery")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/scaleNodes/1024, "KiB/node")
		runtime.KeepAlive(r)
	}
}
