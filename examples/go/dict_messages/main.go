// Command dict_messages is p2pnetwork's dict example in Go: a map travels as
// JSON, exactly as a Python node sends a dict, and is decoded on arrival.
package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/p2pnode/p2pnode/p2p"
)

type person struct {
	Name   string `json:"name"`
	Number int    `json:"number"`
}

func run(out io.Writer) error {
	got := make(chan p2p.Message, 1)
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
	if _, err := sender.Connect("127.0.0.1", receiver.Port(), false); err != nil {
		return err
	}
	payload, err := p2p.JSON(map[string]any{"name": "Maurice", "number": 11})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sending %s\n", payload)
	if err := sender.SendToNodes(payload, nil, p2p.None); err != nil {
		return err
	}
	select {
	case m := <-got:
		var p person
		if err := m.Decode(&p); err != nil {
			return err
		}
		fmt.Fprintf(out, "received a %v message: name=%s number=%d\n", m.Kind, p.Name, p.Number)
	case <-time.After(10 * time.Second):
		return fmt.Errorf("nothing arrived")
	}
	return nil
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dict_messages:", err)
		os.Exit(1)
	}
}
