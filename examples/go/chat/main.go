// Command chat is a chat over a topic: every line you type is published to
// the topic, and every line anyone in the network publishes to it is printed,
// once. Nodes find each other from one bootstrap address (discovery), and the
// links between p2pnode nodes are encrypted (the native protocol).
//
//	chat <name> <topic> [<bootstrap-host>:<port>] [<listen-host>:<port>]
//
// The first node of a network needs no bootstrap; the others give the
// address of any node already in it. <name> is the node id (unique in the
// network); the node listens on 127.0.0.1 and a free port unless told
// otherwise. End with Ctrl-D (end of input).
//
//	$ chat alice lobby                  * alice listening on 127.0.0.1:40123, topic lobby
//	$ chat bob lobby 127.0.0.1:40123    * bob listening on 127.0.0.1:40555, topic lobby
//	hello                               (alice prints "<bob> hello")
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"

	"github.com/p2pnode/p2pnode/p2p"
)

// neighbours is how many connections discovery keeps for each node.
const neighbours = 3

// chat prints what the topic brings and who comes and goes. It implements
// p2p.TopicHandler, the optional interface for topic messages.
type chat struct {
	p2p.BaseHandler
	mu  sync.Mutex // the node's events and main print from different goroutines
	out io.Writer
}

func (c *chat) say(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.out, format+"\n", args...)
}

func (c *chat) NodeTopicMessage(_ *p2p.Peer, _, origin string, m p2p.Message) {
	c.say("<%s> %s", origin, m.Text())
}

func (c *chat) joined(p *p2p.Peer) {
	how := "plaintext"
	if p.Encrypted() {
		how = "encrypted"
	}
	c.say("* connected with %s (%s)", p.ID(), how)
}

func (c *chat) OutboundNodeConnected(p *p2p.Peer)    { c.joined(p) }
func (c *chat) InboundNodeConnected(p *p2p.Peer)     { c.joined(p) }
func (c *chat) OutboundNodeDisconnected(p *p2p.Peer) { c.say("* %s left", p.ID()) }
func (c *chat) InboundNodeDisconnected(p *p2p.Peer)  { c.say("* %s left", p.ID()) }

// address splits "host:port".
func address(s string) (string, int, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", s)
	}
	return host, n, nil
}

var errUsage = errors.New("usage: chat <name> <topic> [<bootstrap-host>:<port>] [<listen-host>:<port>]")

// run is the program: args without the program name, lines from in until
// its end, the chat on out.
func run(args []string, in io.Reader, out io.Writer) error {
	if len(args) < 2 || len(args) > 4 {
		return errUsage
	}
	name, topic := args[0], args[1]
	cfg := p2p.Config{Host: "127.0.0.1", ID: name}
	if len(args) == 4 {
		var err error
		if cfg.Host, cfg.Port, err = address(args[3]); err != nil {
			return fmt.Errorf("listen address: %w", err)
		}
	}
	c := &chat{out: out}
	n, err := p2p.New(cfg, c)
	if err != nil {
		return err
	}
	if err := n.Subscribe(topic); err != nil {
		return err
	}
	if err := n.Start(); err != nil {
		return err
	}
	defer n.Stop()
	c.say("* %s listening on %s:%d, topic %s", name, cfg.Host, n.Port(), topic)
	if len(args) >= 3 {
		host, port, err := address(args[2])
		if err != nil {
			return fmt.Errorf("bootstrap address: %w", err)
		}
		if _, err := n.Connect(host, port, false); err != nil {
			return fmt.Errorf("joining through %s: %w", args[2], err)
		}
	}
	// Learn the network from the peers and keep that many connections.
	if err := n.Discover(neighbours); err != nil {
		return err
	}
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		if line := lines.Text(); line != "" {
			if err := n.Publish(topic, []byte(line)); err != nil {
				return err
			}
		}
	}
	return lines.Err()
}

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
