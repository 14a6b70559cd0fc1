// Package bench measures p2pnode against raw-socket baselines taken in the
// same run. Every benchmark does a fixed, bounded amount of work (run them
// with -benchtime=1x) and records its figures with record(), which appends
// "name value unit" lines to $BENCH_OUT for bench/report.py; the same figures
// are reported as custom benchmark metrics. Nothing here asserts a timing.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/wire"
)

const host = "127.0.0.1"

var outMu sync.Mutex

// record appends one figure to $BENCH_OUT and reports it on b.
func record(b *testing.B, name string, value float64, unit string) {
	b.ReportMetric(value, unit)
	path := os.Getenv("BENCH_OUT")
	if path == "" {
		return
	}
	outMu.Lock()
	defer outMu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %g %s\n", name, value, unit)
}

// envInt reads a size from the environment (to shrink runs), or def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(float64(len(s)-1)*p)]
}

// textPayload is n bytes of ASCII text that is not JSON.
func textPayload(n int) []byte {
	p := bytes.Repeat([]byte("message payload "), n/16+1)[:n]
	return p
}

// ---- nodes ---------------------------------------------------------------

// pair makes two started nodes, a connected to b; fnA and fnB get their
// events. It returns a's peer for b and b's peer for a.
// pair connects two nodes speaking the plaintext protocol (the baseline
// figures; see BenchmarkEncrypted for the native protocol).
func pair(b *testing.B, lim p2p.Limits, fnA, fnB p2p.HandlerFunc) (na, nb *p2p.Node, pa, pb *p2p.Peer) {
	b.Helper()
	return pairMode(b, lim, p2p.EncryptionOff, fnA, fnB)
}

// pairMode connects two nodes in encryption mode mode.
func pairMode(b *testing.B, lim p2p.Limits, mode p2p.Encryption, fnA, fnB p2p.HandlerFunc) (na, nb *p2p.Node, pa, pb *p2p.Peer) {
	b.Helper()
	inbound := make(chan *p2p.Peer, 1)
	wrapB := func(ev *p2p.Event) bool {
		if ev.Type == p2p.EventInboundConnected {
			inbound <- ev.Peer
			return true
		}
		if fnB != nil {
			return fnB(ev)
		}
		return true
	}
	var err error
	nb, err = p2p.NewWithCallback(p2p.Config{Host: host, Limits: lim, Encryption: mode}, wrapB)
	if err != nil {
		b.Fatal(err)
	}
	na, err = p2p.NewWithCallback(p2p.Config{Host: host, Limits: lim, Encryption: mode}, fnA)
	if err != nil {
		b.Fatal(err)
	}
	if err := nb.Start(); err != nil {
		b.Fatal(err)
	}
	if err := na.Start(); err != nil {
		b.Fatal(err)
	}
	pa, err = na.Connect(host, nb.Port(), false)
	if err != nil {
		b.Fatal(err)
	}
	select {
	case pb = <-inbound:
	case <-time.After(10 * time.Second):
		b.Fatal("no inbound connection")
	}
	return
}

func stopAll(nodes ...*p2p.Node) {
	for _, n := range nodes {
		_ = n.Stop()
	}
}

// rawPair is a connected pair of plain TCP sockets on loopback.
func rawPair(b *testing.B) (client, server net.Conn) {
	b.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(acc)
			return
		}
		acc <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	server = <-acc
	if server == nil {
		b.Fatal("accept failed")
	}
	return
}

// ---- one-way stream of small messages ---------------------------------------

const streamRuns = 3

// BenchmarkStream sends 64-byte messages one way, through two nodes and
// through a raw TCP pair (a 64 KiB buffered net.Conn writer and an
// EOT-splitting bufio reader), and records the median of three runs.
func BenchmarkStream(b *testing.B) {
	n := envInt("BENCH_STREAM_MSGS", 2_000_000)
	payload := textPayload(64)
	for i := 0; i < b.N; i++ {
		var raw, ours, allocs []float64
		for r := 0; r < streamRuns; r++ {
			raw = append(raw, rawStream(b, n, payload))
			rate, a := nodeStream(b, n, payload)
			ours = append(ours, rate)
			allocs = append(allocs, a)
		}
		record(b, "go_stream_raw", median(raw), "msg/s")
		record(b, "go_stream_p2p", median(ours), "msg/s")
		record(b, "go_stream_allocs", median(allocs), "allocs/msg")
	}
}

func rawStream(b *testing.B, n int, payload []byte) float64 {
	client, server := rawPair(b)
	defer client.Close()
	defer server.Close()
	frame := append(append([]byte(nil), payload...), wire.EOT)
	done := make(chan int)
	go func() {
		r := bufio.NewReaderSize(server, 256<<10)
		got := 0
		for got < n {
			line, err := r.ReadSlice(wire.EOT)
			if err != nil {
				break
			}
			_ = line
			got++
		}
		done <- got
	}()
	start := time.Now()
	w := bufio.NewWriterSize(client, 64<<10)
	for i := 0; i < n; i++ {
		if _, err := w.Write(frame); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if got := <-done; got != n {
		b.Fatalf("raw stream: %d of %d frames", got, n)
	}
	return float64(n) / time.Since(start).Seconds()
}

// nodeStream returns messages per second and allocations per message (both
// nodes, whole process).
func nodeStream(b *testing.B, n int, payload []byte) (float64, float64) {
	return nodeStreamMode(b, n, payload, p2p.EncryptionOff)
}

func nodeStreamMode(b *testing.B, n int, payload []byte, mode p2p.Encryption) (float64, float64) {
	var got atomic.Int64
	done := make(chan struct{})
	recv := func(ev *p2p.Event) bool {
		if ev.Type == p2p.EventMessage {
			if got.Add(1) == int64(n) {
				close(done)
			}
		}
		return true
	}
	na, nb, pa, _ := pairMode(b, p2p.Limits{}, mode, nil, recv)
	if pa.Encrypted() != (mode != p2p.EncryptionOff) {
		b.Fatalf("stream: encrypted %v in mode %v", pa.Encrypted(), mode)
	}
	defer stopAll(na, nb)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	sendAll(b, pa, payload, n, done, "stream", &got)
	el := time.Since(start)
	runtime.ReadMemStats(&m1)
	return float64(n) / el.Seconds(), float64(m1.Mallocs-m0.Mallocs) / float64(n)
}

// ---- round trip ----------------------------------------------------------------

// BenchmarkRTT measures send -> peer echoes -> event back, one message in
// flight, against a raw TCP ping-pong.
func BenchmarkRTT(b *testing.B) {
	n := envInt("BENCH_RTT_ROUNDS", 20_000)
	payload := textPayload(64)
	for i := 0; i < b.N; i++ {
		raw := rawRTT(b, n, payload)
		ours := nodeRTT(b, n, payload)
		us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
		record(b, "go_rtt_raw_p50", us(percentile(raw, 0.5)), "us")
		record(b, "go_rtt_raw_p99", us(percentile(raw, 0.99)), "us")
		record(b, "go_rtt_p2p_p50", us(percentile(ours, 0.5)), "us")
		record(b, "go_rtt_p2p_p99", us(percentile(ours, 0.99)), "us")
	}
}

func rawRTT(b *testing.B, n int, payload []byte) []time.Duration {
	client, server := rawPair(b)
	defer client.Close()
	defer server.Close()
	frame := append(append([]byte(nil), payload...), wire.EOT)
	go func() {
		r := bufio.NewReader(server)
		for {
			line, err := r.ReadSlice(wire.EOT)
			if err != nil {
				return
			}
			if _, err := server.Write(line); err != nil {
				return
			}
		}
	}()
	r := bufio.NewReader(client)
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		t := time.Now()
		if _, err := client.Write(frame); err != nil {
			b.Fatal(err)
		}
		if _, err := r.ReadSlice(wire.EOT); err != nil {
			b.Fatal(err)
		}
		out = append(out, time.Since(t))
	}
	return out
}

func nodeRTT(b *testing.B, n int, payload []byte) []time.Duration {
	back := make(chan time.Time, 1)
	onA := func(ev *p2p.Event) bool {
		if ev.Type == p2p.EventMessage {
			back <- time.Now()
		}
		return true
	}
	echo := func(ev *p2p.Event) bool {
		if ev.Type == p2p.EventMessage {
			_ = ev.Peer.Send(ev.Message.Data, p2p.None)
		}
		return true
	}
	na, nb, pa, _ := pair(b, p2p.Limits{}, onA, echo)
	defer stopAll(na, nb)
	out := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		t := time.Now()
		if err := pa.Send(payload, p2p.None); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-back:
			out = append(out, at.Sub(t))
		case <-time.After(10 * time.Second):
			b.Fatal("no echo")
		}
	}
	return out
}

// ---- large messages --------------------------------------------------------------

// BenchmarkLarge streams 16 MiB messages one way, against a raw TCP pair
// whose reader collects each frame into one buffer (one copy).
func BenchmarkLarge(b *testing.B) {
	const size = 16 << 20
	n := envInt("BENCH_LARGE_MSGS", 24)
	payload := bytes.Repeat([]byte{'a'}, size)
	for i := 0; i < b.N; i++ {
		raw := rawLarge(b, n, payload)
		ours := nodeLarge(b, n, payload)
		record(b, "go_large_raw", raw/1e9, "GB/s")
		record(b, "go_large_p2p", ours/1e9, "GB/s")
	}
}

func rawLarge(b *testing.B, n int, payload []byte) float64 {
	client, server := rawPair(b)
	defer client.Close()
	defer server.Close()
	done := make(chan int)
	go func() {
		buf := make([]byte, 2*len(payload)+2)
		have, got := 0, 0
		for got < n {
			r, err := server.Read(buf[have:])
			if err != nil {
				break
			}
			scan := have
			have += r
			for {
				i := bytes.IndexByte(buf[scan:have], wire.EOT)
				if i < 0 {
					break
				}
				got++
				end := scan + i + 1
				have = copy(buf, buf[end:have])
				scan = 0
			}
		}
		done <- got
	}()
	eot := []byte{wire.EOT}
	start := time.Now()
	for i := 0; i < n; i++ {
		bufs := net.Buffers{payload, eot}
		if _, err := bufs.WriteTo(client); err != nil {
			b.Fatal(err)
		}
	}
	if got := <-done; got != n {
		b.Fatalf("raw large: %d of %d", got, n)
	}
	return float64(n*len(payload)) / time.Since(start).Seconds()
}

func nodeLarge(b *testing.B, n int, payload []byte) float64 {
	return nodeLargeMode(b, n, payload, p2p.EncryptionOff)
}

func nodeLargeMode(b *testing.B, n int, payload []byte, mode p2p.Encryption) float64 {
	var got atomic.Int64
	done := make(chan struct{})
	recv := func(ev *p2p.Event) bool {
		if ev.Type == p2p.EventMessage {
			if len(ev.Message.Data) != len(payload) {
				b.Errorf("large: got %d bytes", len(ev.Message.Data))
			}
			if got.Add(1) == int64(n) {
				close(done)
			}
		}
		return true
	}
	na, nb, pa, _ := pairMode(b, p2p.Limits{}, mode, nil, recv)
	if pa.Encrypted() != (mode != p2p.EncryptionOff) {
		b.Fatalf("large: encrypted %v in mode %v", pa.Encrypted(), mode)
	}
	defer stopAll(na, nb)
	start := time.Now()
	sendAll(b, pa, payload, n, done, "large", &got)
	return float64(n*len(payload)) / time.Since(start).Seconds()
}

// ---- compression -------------------------------------------------------------------

// compressibleText is deterministic English-like text.
func compressibleText(n int) []byte {
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

// BenchmarkCompression sends 64 KiB text messages compressed with each
// codec through two nodes, against compressing and decompressing the same
// messages with the codec alone, one after the other.
func BenchmarkCompression(b *testing.B) {
	payload := compressibleText(64 << 10)
	// The same text for the CPython baseline (bench/py_bench.py codec).
	textPath := b.TempDir() + "/text64k.txt"
	if err := os.WriteFile(textPath, payload, 0o644); err != nil {
		b.Fatalf("writing the codec text for the CPython baseline: %v", err)
	}
	cases := []struct {
		c p2p.Compression
		n int
	}{{p2p.Zlib, envInt("BENCH_ZLIB_MSGS", 300)}, {p2p.Bzip2, envInt("BENCH_BZIP2_MSGS", 40)}, {p2p.Lzma, envInt("BENCH_LZMA_MSGS", 40)}}
	for i := 0; i < b.N; i++ {
		for _, tc := range cases {
			// Go's codec and CPython's path interleaved, twice, best of two
			// each, so that both see the same load of a shared machine.
			var alone, cpy float64
			cpyOK := true
			for r := 0; r < 2; r++ {
				alone = max(alone, codecAlone(b, tc.c, tc.n, payload))
				if cpyOK {
					v, err := cpythonCodec(tc.c, tc.n, textPath)
					if err != nil {
						b.Logf("CPython baseline of %v left out: %v", tc.c, err)
						cpyOK = false
					}
					cpy = max(cpy, v)
				}
			}
			if cpyOK {
				record(b, "cpy_codec_"+tc.c.String(), cpy, "MB/s")
			}
			ours := nodeCompressed(b, tc.c, tc.n, payload)
			record(b, "go_codec_"+tc.c.String()+"_alone", alone/1e6, "MB/s")
			record(b, "go_codec_"+tc.c.String()+"_p2p", ours/1e6, "MB/s")
		}
	}
}

// cpythonCodec runs CPython's own codec path (bench/py_bench.py codec) on
// the text at path, n times; megabytes of text per second.
func cpythonCodec(c p2p.Compression, n int, path string) (float64, error) {
	python := os.Getenv("PYTHON")
	if python == "" {
		python = "python3"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "py_bench.py", "codec", c.String(), path, strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("py_bench.py codec %v: %w", c, err)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		return 0, fmt.Errorf("py_bench.py codec %v: output %q: %w", c, out, err)
	}
	return v, nil
}

func codecAlone(b *testing.B, c p2p.Compression, n int, payload []byte) float64 {
	start := time.Now()
	for i := 0; i < n; i++ {
		body, err := wire.Compress(payload, c)
		if err != nil {
			b.Fatal(err)
		}
		tag := len(c.String())
		out, err := wire.Decompress(body[:len(body)-tag], c, 0)
		if err != nil || len(out) != len(payload) {
			b.Fatalf("codec %v: %v", c, err)
		}
	}
	return float64(n*len(payload)) / time.Since(start).Seconds()
}

func nodeCompressed(b *testing.B, c p2p.Compression, n int, payload []byte) float64 {
	var got atomic.Int64
	done := make(chan struct{})
	recv := func(ev *p2p.Event) bool {
		if ev.Type == p2p.EventMessage {
			if !bytes.Equal(ev.Message.Data, payload) || ev.Message.Compression != c {
				b.Errorf("compressed message differs")
			}
			if got.Add(1) == int64(n) {
				close(done)
			}
		}
		return true
	}
	na, nb, pa, _ := pair(b, p2p.Limits{}, nil, recv)
	defer stopAll(na, nb)
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := pa.Send(payload, c); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		b.Fatalf("compressed: %d of %d", got.Load(), n)
	}
	return float64(n*len(payload)) / time.Since(start).Seconds()
}

// ---- scale: many idle peers ----------------------------------------------------------

// The clients of BenchmarkScale run in a child process (this test binary
// again) so that the node's process holds only the node's side.
func TestMain(m *testing.M) {
	if addr := os.Getenv("BENCH_SCALE_CLIENT"); addr != "" {
		os.Exit(scaleClient(addr, envInt("BENCH_SCALE_PEERS", 10_000)))
	}
	os.Exit(m.Run())
}

func raiseFDLimit() error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	want := uint64(65536)
	if l.Max < want {
		l.Max = want // needs privilege; falls back below
	}
	l.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
		l.Cur = l.Max
		return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
	return nil
}

// scaleClient opens n connections to addr, each sending a hello and reading
// the reply, prints "ready", and holds them until its standard input closes.
func scaleClient(addr string, n int) int {
	if err := raiseFDLimit(); err != nil {
		fmt.Fprintln(os.Stderr, "rlimit:", err)
	}
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	var failed atomic.Int64
	sem := make(chan struct{}, 64)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				failed.Add(1)
				return
			}
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := c.Write([]byte(fmt.Sprintf("client%05d:%d", i, 1+i%60000))); err != nil {
				failed.Add(1)
				c.Close()
				return
			}
			buf := make([]byte, 4096)
			if _, err := c.Read(buf); err != nil {
				failed.Add(1)
				c.Close()
				return
			}
			_ = c.SetDeadline(time.Time{})
			conns[i] = c
		}(i)
	}
	wg.Wait()
	fmt.Printf("ready %d\n", int64(n)-failed.Load())
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	return 0
}

// memNow is the Go runtime's memory in use (heap spans and stacks) and the
// process's resident set, in bytes.
func memNow() (goMem, rss uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	goMem = m.HeapInuse + m.StackInuse
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		f := strings.Fields(string(b))
		if len(f) > 1 {
			pages, _ := strconv.ParseUint(f[1], 10, 64)
			rss = pages * uint64(os.Getpagesize())
		}
	}
	return
}

// startClients runs the client process against addr and waits for "ready".
func startClients(b *testing.B, addr string, n int) (stop func()) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "BENCH_SCALE_CLIENT="+addr, "BENCH_SCALE_PEERS="+strconv.Itoa(n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready ") {
		b.Fatalf("scale clients: %q %v", line, err)
	}
	if ready, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "ready "))); ready != n {
		b.Logf("scale clients: only %d of %d connected", ready, n)
	}
	return func() {
		stdin.Close()
		_ = cmd.Wait()
	}
}

// BenchmarkScale holds 10,000 idle peers on one node and reports the memory
// each costs the node's process, against plain Go connections that each
// keep a reader goroutine with a 4 KiB buffer.
func BenchmarkScale(b *testing.B) {
	n := envInt("BENCH_SCALE_PEERS", 10_000)
	if err := raiseFDLimit(); err != nil {
		b.Logf("could not raise the fd limit: %v", err)
	}
	for i := 0; i < b.N; i++ {
		rawGo, rawRSS := rawScale(b, n)
		goMem, rss, peers, setup := nodeScale(b, n)
		record(b, "go_scale_peers", float64(peers), "peers")
		record(b, "go_scale_setup", setup.Seconds(), "s")
		record(b, "go_scale_p2p_go_per_peer", goMem/1024, "KiB")
		record(b, "go_scale_p2p_rss_per_peer", rss/1024, "KiB")
		record(b, "go_scale_raw_go_per_peer", rawGo/1024, "KiB")
		record(b, "go_scale_raw_rss_per_peer", rawRSS/1024, "KiB")
	}
}

func rawScale(b *testing.B, n int) (float64, float64) {
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		b.Fatal(err)
	}
	g0, r0 := memNow()
	var conns []net.Conn
	var mu sync.Mutex
	var count atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				buf := make([]byte, 4096)
				r, _ := c.Read(buf)
				_, _ = c.Write([]byte("server"))
				count.Add(1)
				_ = r
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	}()
	stop := startClients(b, ln.Addr().String(), n)
	for deadline := time.Now().Add(30 * time.Second); count.Load() < int64(n) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	g1, r1 := memNow()
	stop()
	ln.Close()
	mu.Lock()
	for _, c := range conns {
		c.Close()
	}
	mu.Unlock()
	k := float64(count.Load())
	return (float64(g1) - float64(g0)) / k, (float64(r1) - float64(r0)) / k
}

func nodeScale(b *testing.B, n int) (float64, float64, int, time.Duration) {
	node, err := p2p.New(p2p.Config{Host: host}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := node.Start(); err != nil {
		b.Fatal(err)
	}
	defer node.Stop()
	g0, r0 := memNow()
	start := time.Now()
	stop := startClients(b, fmt.Sprintf("%s:%d", host, node.Port()), n)
	defer stop()
	for deadline := time.Now().Add(30 * time.Second); len(node.Inbound()) < n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	setup := time.Since(start)
	peers := len(node.Inbound())
	g1, r1 := memNow()
	k := float64(max(peers, 1))
	return (float64(g1) - float64(g0)) / k, (float64(r1) - float64(r0)) / k, peers, setup
}

// sendAll sends payload n times to pa and waits (up to a minute) until done
// is closed by the receiver, which counts arrivals in got.
func sendAll(b *testing.B, pa *p2p.Peer, payload []byte, n int, done <-chan struct{}, what string, got *atomic.Int64) {
	b.Helper()
	for i := 0; i < n; i++ {
		if err := pa.Send(payload, p2p.None); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		b.Fatalf("%s: %d of %d messages", what, got.Load(), n)
	}
}

// ---- one slow peer among fast ones (issue 16) ----------------------------------

// BenchmarkSlowPeer: a hub broadcasts 64 KiB messages to fast peers and one
// raw socket that reads about 40 KB/s. It records the broadcasts per second
// that reach the fast peers once the slow peer's queue is full (measured
// over at most 5 s), and how long Stop takes then. Before issue 16 every
// broadcast waited SendTimeout (10 s) for the slow peer.
func BenchmarkSlowPeer(b *testing.B) {
	fast := envInt("BENCH_SLOW_FAST", 10)
	for i := 0; i < b.N; i++ {
		rate, stop := slowPeerRun(b, fast)
		record(b, "go_slowpeer_broadcast", rate, "msg/s")
		record(b, "go_slowpeer_stop", stop, "s")
	}
}

func slowPeerRun(b *testing.B, fast int) (rate, stopSecs float64) {
	hub, err := p2p.New(p2p.Config{Host: host, DebugOutput: io.Discard}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := hub.Start(); err != nil {
		b.Fatal(err)
	}
	var got atomic.Int64
	var peers []*p2p.Node
	for range fast {
		n, err := p2p.NewWithCallback(p2p.Config{Host: host, DebugOutput: io.Discard}, func(ev *p2p.Event) bool {
			if ev.Type == p2p.EventMessage {
				got.Add(1)
			}
			return true
		})
		if err != nil {
			b.Fatal(err)
		}
		_ = n.Start()
		if _, err := n.Connect(host, hub.Port(), false); err != nil {
			b.Fatal(err)
		}
		peers = append(peers, n)
	}
	defer stopAll(peers...)
	c, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(hub.Port())))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(8 << 10)
	_, _ = c.Write([]byte("slow:1"))
	_, _ = c.Read(make([]byte, 4096))
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		buf := make([]byte, 4<<10)
		for {
			select {
			case <-quit:
				return
			case <-tk.C:
				if _, err := c.Read(buf); err != nil {
					return
				}
			}
		}
	}()
	defer func() { close(quit); _ = c.Close(); wg.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); len(hub.All()) < fast+1; {
		if time.Now().After(deadline) {
			b.Fatal("peers did not connect")
		}
		time.Sleep(time.Millisecond)
	}
	payload := textPayload(64 << 10)
	var full time.Time
	sent := 0
	for k := 0; k < 100000; k++ {
		err := hub.SendToNodes(payload, nil, p2p.None)
		if full.IsZero() {
			if err != nil {
				full = time.Now()
				got.Store(0)
			}
			continue
		}
		sent++
		if time.Since(full) > 5*time.Second || sent == 2000 {
			break
		}
	}
	for deadline := time.Now().Add(10 * time.Second); got.Load() < int64(sent*fast) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	rate = float64(got.Load()) / float64(fast) / time.Since(full).Seconds()
	start := time.Now()
	_ = hub.Stop()
	return rate, time.Since(start).Seconds()
}
