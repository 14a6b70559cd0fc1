// Command extend_node is p2pnetwork's first example in Go: your own node type
// that overrides the events it cares about (MyOwnPeer2PeerNode), three of
// them in a ring, one greeting, and a clean stop.
package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/p2pnode/p2pnode/p2p"
)

// MyOwnPeer2PeerNode embeds BaseHandler and overrides the events it uses, as
// one subclasses Node in p2pnetwork.
type MyOwnPeer2PeerNode struct {
	p2p.BaseHandler
	name string
	out  io.Writer
	mu   *sync.Mutex
	got  chan string
}

func (n *MyOwnPeer2PeerNode) say(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.out, n.name+": "+format+"\n", args...)
}

func (n *MyOwnPeer2PeerNode) OutboundNodeConnected(p *p2p.Peer) {
	n.say("outbound_node_connected: %s", p.ID())
}

func (n *MyOwnPeer2PeerNode) InboundNodeConnected(p *p2p.Peer) {
	n.say("inbound_node_connected: %s", p.ID())
}

func (n *MyOwnPeer2PeerNode) InboundNodeDisconnected(p *p2p.Peer) {
	n.say("inbound_node_disconnected: %s", p.ID())
}

func (n *MyOwnPeer2PeerNode) OutboundNodeDisconnected(p *p2p.Peer) {
	n.say("outbound_node_disconnected: %s", p.ID())
}

func (n *MyOwnPeer2PeerNode) NodeMessage(p *p2p.Peer, m p2p.Message) {
	n.say("node_message from %s: %v", p.ID(), m.Value())
	n.got <- m.Text()
}

func (n *MyOwnPeer2PeerNode) NodeRequestToStop() { n.say("node is requested to stop!") }

func run(out io.Writer) error {
	var mu sync.Mutex
	handlers := make([]*MyOwnPeer2PeerNode, 3)
	nodes := make([]*p2p.Node, 3)
	for i := range nodes {
		handlers[i] = &MyOwnPeer2PeerNode{name: fmt.Sprintf("node_%d", i+1), out: out, mu: &mu, got: make(chan string, 10)}
		n, err := p2p.New(p2p.Config{Host: "127.0.0.1", ID: fmt.Sprint(i + 1)}, handlers[i])
		if err != nil {
			return err
		}
		if err := n.Start(); err != nil {
			return err
		}
		defer n.Stop()
		nodes[i] = n
	}
	for i, n := range nodes {
		if _, err := n.Connect("127.0.0.1", nodes[(i+1)%3].Port(), false); err != nil {
			return fmt.Errorf("connect node_%d: %w", i+1, err)
		}
	}
	if err := nodes[0].SendToNodes(p2p.Text("message: Hi there!"), nil, p2p.None); err != nil {
		return err
	}
	// node_2 (outbound from node_1) and node_3 (inbound to node_1) both hear it.
	for _, h := range handlers[1:] {
		select {
		case <-h.got:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("%s got no message", h.name)
		}
	}
	for _, n := range nodes {
		if err := n.Stop(); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "end test")
	return nil
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "extend_node:", err)
		os.Exit(1)
	}
}
