// Command callback is p2pnetwork's callback example in Go: every event of a
// node goes to one function.
package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/p2pnode/p2pnode/p2p"
)

func run(out io.Writer) error {
	var mu sync.Mutex
	messages := make(chan struct{}, 10)
	nodeCallback := func(ev *p2p.Event) bool {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "Event: %v from main node %s: ", ev.Type, ev.Node.ID())
		if ev.Peer != nil {
			fmt.Fprintf(out, "connected node %s", ev.Peer.ID())
		}
		if ev.Type == p2p.EventMessage {
			fmt.Fprintf(out, ": %v", ev.Message.Value())
			messages <- struct{}{}
		}
		fmt.Fprintln(out)
		return true // for node_reconnection_error: keep trying
	}
	var nodes []*p2p.Node
	for i := 1; i <= 3; i++ {
		n, err := p2p.NewWithCallback(p2p.Config{Host: "127.0.0.1", ID: fmt.Sprint(i)}, nodeCallback)
		if err != nil {
			return err
		}
		if err := n.Start(); err != nil {
			return err
		}
		defer n.Stop()
		nodes = append(nodes, n)
	}
	for i, n := range nodes {
		if _, err := n.Connect("127.0.0.1", nodes[(i+1)%3].Port(), false); err != nil {
			return err
		}
	}
	if err := nodes[0].SendToNodes(p2p.Text("message: hoi from node 1"), nil, p2p.None); err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		select {
		case <-messages:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("only %d of 2 messages arrived", i)
		}
	}
	for _, n := range nodes {
		_ = n.Stop()
	}
	return nil
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "callback:", err)
		os.Exit(1)
	}
}
