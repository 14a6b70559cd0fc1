// Command demo runs a small network of Go nodes in one process: they connect
// in a ring, each greets the others with every kind of payload and every
// codec, and each prints the events it gets. It exits 0 only if every node
// got every message.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/p2pnode/p2pnode/p2p"
)

type greeting struct {
	payload []byte
	codec   p2p.Compression
}

func greetings(from string) []greeting {
	dict, _ := p2p.JSON(map[string]any{"from": from, "kind": "dict"})
	return []greeting{
		{p2p.Text("hello from " + from), p2p.None},
		{dict, p2p.Zlib},
		{[]byte{0xde, 0xad, 0xbe, 0xef, 0x04, 0x02}, p2p.Bzip2},
		{p2p.Text("compressed hello from " + from), p2p.Lzma},
	}
}

func run(out io.Writer, size int) error {
	var mu sync.Mutex
	logf := func(name, format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "[go %-6s] "+format+"\n", append([]any{name}, args...)...)
	}
	want := 2 * len(greetings("")) // from both ring neighbours
	counts := make([]int, size)
	done := make(chan struct{}, size)
	nodes := make([]*p2p.Node, size)
	for i := range nodes {
		i, name := i, fmt.Sprintf("node%d", i+1)
		n, err := p2p.NewWithCallback(p2p.Config{Host: "127.0.0.1", ID: name}, func(ev *p2p.Event) bool {
			switch ev.Type {
			case p2p.EventMessage:
				logf(name, "%v from %s (%v, %v): %v", ev.Type, ev.Peer.ID(), ev.Message.Kind, ev.Message.Compression, ev.Message.Value())
				mu.Lock()
				counts[i]++
				complete := counts[i] == want
				mu.Unlock()
				if complete {
					done <- struct{}{}
				}
			case p2p.EventRequestToStop, p2p.EventReconnectionError:
				logf(name, "%v", ev.Type)
			default:
				logf(name, "%v: %s", ev.Type, ev.Peer.ID())
			}
			return true
		})
		if err != nil {
			return err
		}
		if err := n.Start(); err != nil {
			return err
		}
		defer n.Stop()
		nodes[i] = n
		logf(name, "listening on 127.0.0.1:%d", n.Port())
	}
	for i, n := range nodes {
		if _, err := n.Connect("127.0.0.1", nodes[(i+1)%size].Port(), false); err != nil {
			return err
		}
	}
	for _, n := range nodes {
		for _, g := range greetings(n.ID()) {
			if err := n.SendToNodes(g.payload, nil, g.codec); err != nil {
				return err
			}
		}
	}
	for range nodes {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("not every node got its %d messages: %v", want, counts)
		}
	}
	for _, n := range nodes {
		if err := n.Stop(); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "demo: %d nodes, every node got all %d messages\n", size, want)
	return nil
}

func main() {
	size := flag.Int("nodes", 3, "how many nodes in the ring (at least 3)")
	flag.Parse()
	if *size < 3 {
		fmt.Fprintln(os.Stderr, "demo: -nodes must be at least 3")
		os.Exit(2)
	}
	if err := run(os.Stdout, *size); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
