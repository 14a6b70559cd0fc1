package p2p_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// The 1,000-node run: real sockets on loopback, native TLS between every
// pair. It is too heavy for the race run of make test, so it runs when
// P2P_GOSSIP_NODES is set (make bench sets it to 1000); GOSSIP_CSV names a
// file for the delivery times, which bench/gossip_plot.py draws.

type scaleFigures struct {
	nodes, subscribers             int
	converge                       time.Duration
	p50, p99, p100                 time.Duration // medians over the publishes
	worst100                       time.Duration
	hopsP50, hopsP99               int
	framesPerDelivery, bytesPerDel float64
	gossipPerDel, ihavePerDel      float64 // of those frames, the GOSSIP copies and IHAVE batches
	dropped                        uint64
	heapPerNode                    float64
	duplicates                     int
}

func raiseNoFile(t testing.TB) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Logf("getrlimit: %v", err)
		return
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Logf("setrlimit: %v", err)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

func runScale(t testing.TB, size int, csv string) scaleFigures {
	raiseNoFile(t)
	const k, publishes = 4, 100
	f := scaleFigures{nodes: size}
	before := heapInUse()
	w := newGnet(t, p2p.Config{})
	boot := w.add()
	require.NoError(t, boot.n.Discover(k))
	start := time.Now()
	for i := 1; i < size; i++ {
		w.join(w.add(), boot.n.Port(), k)
		time.Sleep(5 * time.Millisecond) // joins spread over time, as a network grows
	}
	waitFor(t, 5*time.Minute, "convergence", func() bool { return w.converged(k) })
	f.converge = time.Since(start)
	f.heapPerNode = float64(heapInUse()-before) / float64(size)

	rng := rand.New(rand.NewPCG(7, 11))
	var subs []*gnode
	for i, g := range w.nodes {
		if i%5 != 4 { // four in five subscribe, the rest only relay
			require.NoError(t, g.n.Subscribe("bench"))
			subs = append(subs, g)
		}
	}
	f.subscribers = len(subs)
	publish := func(tag string) (origins []*gnode, at []time.Time, data []string) {
		for i := range publishes {
			o := w.nodes[rng.IntN(len(w.nodes))]
			d := fmt.Sprintf("%s %d", tag, i)
			at = append(at, time.Now())
			require.NoError(t, o.n.Publish("bench", []byte(d)))
			origins, data = append(origins, o), append(data, d)
			time.Sleep(100 * time.Millisecond) // a publish every 100 ms, as an application would
		}
		for i := range data {
			waitFor(t, 2*time.Minute, "delivery of "+data[i], func() bool { return w.delivered("bench", data[i], origins[i], subs) })
		}
		return
	}
	publish("warm") // the tree forms
	sent0, bytes0 := sumStats(w)
	gossip0, ihave0 := sumGossip(w)
	hops0 := make([]uint64, 256)
	for _, g := range w.nodes {
		p2p.OverlayHops(g.n, hops0)
	}
	origins, at, data := publish("measured")
	sent1, bytes1 := sumStats(w)
	gossip1, ihave1 := sumGossip(w)
	hops := make([]uint64, 256)
	for _, g := range w.nodes {
		p2p.OverlayHops(g.n, hops)
	}
	var deliveries uint64
	for i := range hops {
		hops[i] -= hops0[i]
		deliveries += hops[i]
	}
	f.hopsP50, f.hopsP99 = quantileHist(hops, deliveries, 0.5), quantileHist(hops, deliveries, 0.99)
	f.framesPerDelivery = float64(sent1-sent0) / float64(deliveries)
	f.bytesPerDel = float64(bytes1-bytes0) / float64(deliveries)
	f.gossipPerDel = float64(gossip1-gossip0) / float64(deliveries)
	f.ihavePerDel = float64(ihave1-ihave0) / float64(deliveries)

	var out *bufio.Writer
	if csv != "" {
		fh, err := os.Create(csv)
		require.NoError(t, err)
		defer fh.Close()
		out = bufio.NewWriter(fh)
		defer out.Flush()
		fmt.Fprintln(out, "publish,ms")
	}
	var q50, q99, q100 []time.Duration
	for i := range data {
		var lat []time.Duration
		for _, s := range subs {
			if s == origins[i] {
				continue
			}
			s.mu.Lock()
			got, c := s.at["bench/"+data[i]], s.got["bench/"+data[i]]
			s.mu.Unlock()
			if c > 1 {
				f.duplicates += c - 1
			}
			lat = append(lat, got.Sub(at[i]))
			if out != nil {
				fmt.Fprintf(out, "%d,%.3f\n", i, float64(got.Sub(at[i]).Microseconds())/1000)
			}
		}
		slices.Sort(lat)
		q50 = append(q50, lat[len(lat)/2])
		q99 = append(q99, lat[len(lat)*99/100])
		q100 = append(q100, lat[len(lat)-1])
	}
	f.p50, f.p99, f.p100 = median(q50), median(q99), median(q100)
	f.worst100 = slices.Max(q100)
	for _, g := range w.nodes {
		_, _, d, _ := p2p.OverlayStats(g.n)
		f.dropped += d
	}
	return f
}

func sumStats(w *gnet) (sent, bytes uint64) {
	for _, g := range w.nodes {
		s, b, _, _ := p2p.OverlayStats(g.n)
		sent += s
		bytes += b
	}
	return
}

func sumGossip(w *gnet) (gossip, ihave uint64) {
	for _, g := range w.nodes {
		s, i := p2p.OverlayGossipFrames(g.n)
		gossip += s
		ihave += i
	}
	return
}

func quantileHist(h []uint64, total uint64, q float64) int {
	var acc uint64
	for i, c := range h {
		acc += c
		if float64(acc) >= q*float64(total) {
			return i
		}
	}
	return len(h) - 1
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func scaleSize(t testing.TB) int {
	v := os.Getenv("P2P_GOSSIP_NODES")
	if v == "" {
		t.Skip("the 1,000-node run: set P2P_GOSSIP_NODES=1000 (make bench does)")
	}
	size, err := strconv.Atoi(v)
	require.NoError(t, err)
	return size
}

func (f scaleFigures) String() string {
	return fmt.Sprintf("%d nodes (%d subscribers): converged in %v; delivery 50/99/100%% %v / %v / %v (slowest publish %v); "+
		"hops p50/p99 %d/%d; frames per delivery %.2f (%.0f B; GOSSIP %.2f, IHAVE %.2f); overlay frames dropped %d; duplicates %d; memory per node %.0f KiB",
		f.nodes, f.subscribers, f.converge.Round(time.Millisecond), f.p50.Round(time.Millisecond), f.p99.Round(time.Millisecond),
		f.p100.Round(time.Millisecond), f.worst100.Round(time.Millisecond), f.hopsP50, f.hopsP99, f.framesPerDelivery,
		f.bytesPerDel, f.gossipPerDel, f.ihavePerDel, f.dropped, f.duplicates, f.heapPerNode/1024)
}

func TestGossipScale(t *testing.T) {
	size := scaleSize(t)
	f := runScale(t, size, os.Getenv("GOSSIP_CSV"))
	t.Log(f)
	require.Zero(t, f.duplicates, "no duplicate delivered")
}

func BenchmarkGossipScale(b *testing.B) {
	size := scaleSize(b)
	for range b.N {
		f := runScale(b, size, os.Getenv("GOSSIP_CSV"))
		b.ReportMetric(f.converge.Seconds(), "converge-s")
		b.ReportMetric(float64(f.p50.Milliseconds()), "p50-ms")
		b.ReportMetric(float64(f.p99.Milliseconds()), "p99-ms")
		b.ReportMetric(float64(f.p100.Milliseconds()), "p100-ms")
		b.ReportMetric(float64(f.hopsP50), "hops-p50")
		b.ReportMetric(float64(f.hopsP99), "hops-p99")
		b.ReportMetric(f.framesPerDelivery, "frames/delivery")
		b.ReportMetric(f.heapPerNode/1024, "KiB/node")
		fmt.Println(f)
	}
}
