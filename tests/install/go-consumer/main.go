// Command go-consumer is a plain module outside ours that requires
// github.com/p2pnode/p2pnode by its path (go.mod; the test points the
// replace directive at the checkout). Two nodes, one JSON message, zlib.
package main

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/p2pnode/p2pnode/p2p"
)

func run() error {
	got := make(chan p2p.Message, 1)
	b, err := p2p.NewWithCallback(p2p.Config{Host: "127.0.0.1"}, func(ev *p2p.Event) bool {
		if ev.Type == p2p.EventMessage {
			select {
			case got <- ev.Message:
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
		return fmt.Errorf("connect: %w", err)
	}
	if err := peer.Send([]byte(`{"from": "go-consumer", "n": 1}`), p2p.Zlib); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	select {
	case m := <-got:
		var v struct {
			From string `json:"from"`
			N    int    `json:"n"`
		}
		if err := m.Decode(&v); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		if v.From != "go-consumer" || v.N != 1 {
			return fmt.Errorf("got %+v", v)
		}
		fmt.Printf("go consumer: got %+v (zlib)\n", v)
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("the message did not arrive within 10 s")
	}
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}
