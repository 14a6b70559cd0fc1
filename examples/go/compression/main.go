// Command compression is p2pnetwork's compression example in Go: the same
// text sent with each codec; the receiver gets it back exactly.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/p2pnode/p2pnode/p2p"
)

func run(out io.Writer) error {
	got := make(chan p2p.Message, 10)
	receiver, err := p2p.NewWithCallback(p2p.Config{Host: "127.0.0.1"}, func(ev *p2p.Event) bool {
		if ev.Type == p2p.EventMessage {
			got <- ev.Message
		}
		return true
	})
	if err != nil {
		return err
	}
	sender, err := p2p.New(p2p.Config{Host: "127.0.0.1"}, nil)
	if err != nil {
		return err
	}
	for _, n := range []*p2p.Node{receiver, sender} {
		if err := n.Start(); err != nil {
			return err
		}
		defer n.Stop()
	}
	peer, err := sender.Connect("127.0.0.1", receiver.Port(), false)
	if err != nil {
		return err
	}
	text := strings.Repeat("Compressible text, again and again. ", 100)
	for _, c := range []p2p.Compression{p2p.None, p2p.Zlib, p2p.Bzip2, p2p.Lzma} {
		if err := peer.Send(p2p.Text(text), c); err != nil {
			return err
		}
		select {
		case m := <-got:
			if m.Text() != text {
				return fmt.Errorf("%v: message changed on the way", c)
			}
			fmt.Fprintf(out, "received %d bytes sent with %v\n", len(m.Data), m.Compression)
		case <-time.After(10 * time.Second):
			return fmt.Errorf("%v: nothing arrived", c)
		}
	}
	return nil
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "compression:", err)
		os.Exit(1)
	}
}
