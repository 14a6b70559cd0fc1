// Command readme is the Go example of the top README, whole: two nodes on
// free loopback ports, the first connects to the second and sends it a
// message; every error is checked. It exits 0 once the message arrived.
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/p2pnode/p2pnode/p2p"
)

func run(out io.Writer) error {
	got := make(chan string, 1)
	b, err := p2p.NewWithCallback(p2p.Config{Host: "127.0.0.1", Port: 0}, func(ev *p2p.Event) bool {
		if ev.Type == p2p.EventMessage {
			fmt.Fprintf(out, "%s says %v\n", ev.Peer.ID()[:16], ev.Message.Value())
			select {
			case got <- ev.Message.Text():
			default:
			}
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("new node: %w", err)
	}
	if err := b.Start(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer b.Stop()

	a, err := p2p.New(p2p.Config{Host: "127.0.0.1"}, nil)
	if err != nil {
		return fmt.Errorf("new node: %w", err)
	}
	if err := a.Start(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer a.Stop()

	peer, err := a.Connect("127.0.0.1", b.Port(), false)
	if err != nil {
		return fmt.Errorf("connect: %w", err) // peer is nil here
	}
	if err := peer.Send(p2p.Text("hello"), p2p.None); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	select {
	case text := <-got:
		if text != "hello" {
			return fmt.Errorf("got %q, sent %q", text, "hello")
		}
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("the message did not arrive within 10 s")
	}
}

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}
