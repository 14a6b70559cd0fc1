package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// instance is one chat run in-process, typed to and read through pipes.
type instance struct {
	in    io.WriteCloser
	lines chan string
	done  chan error
	seen  []string     // every line read so far
	used  map[int]bool // the lines of seen that expect returned
	port  string
}

func start(t *testing.T, args ...string) *instance {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	x := &instance{in: inW, lines: make(chan string, 1024), done: make(chan error, 1), used: map[int]bool{}}
	go func() {
		err := run(args, inR, outW)
		outW.Close()
		inR.Close()
		x.done <- err
	}()
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			x.lines <- sc.Text()
		}
		close(x.lines)
	}()
	ready := x.expect(t, "* "+args[0]+" listening on 127.0.0.1:")
	x.port = strings.TrimSuffix(strings.Fields(ready)[4], ",")[len("127.0.0.1:"):]
	return x
}

// expect returns the first line not yet expected that starts with prefix,
// whenever it came, failing after a deadline.
func (x *instance) expect(t *testing.T, prefix string) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for i := 0; ; {
		for ; i < len(x.seen); i++ {
			if !x.used[i] && strings.HasPrefix(x.seen[i], prefix) {
				x.used[i] = true
				return x.seen[i]
			}
		}
		select {
		case line, ok := <-x.lines:
			if !ok {
				t.Fatalf("output ended before %q; it was %q", prefix, x.seen)
			}
			x.seen = append(x.seen, line)
		case <-deadline:
			t.Fatalf("timed out waiting for %q; output %q", prefix, x.seen)
		}
	}
}

func (x *instance) say(t *testing.T, line string) {
	t.Helper()
	if _, err := fmt.Fprintln(x.in, line); err != nil {
		t.Fatal(err)
	}
}

// count is how many lines read so far are line.
func (x *instance) count(line string) int {
	n := 0
	for _, l := range x.seen {
		if l == line {
			n++
		}
	}
	return n
}

// TestChat: three chats in a line (b joins through a, c through b) and one
// on another topic; each line typed reaches the others on the topic once,
// never its writer, never the other topic.
func TestChat(t *testing.T) {
	a := start(t, "alice", "lobby")
	b := start(t, "bob", "lobby", "127.0.0.1:"+a.port)
	c := start(t, "carol", "lobby", "127.0.0.1:"+b.port)
	d := start(t, "dave", "kitchen", "127.0.0.1:"+c.port)
	// Discovery keeps three links each: with four chats, each with all the
	// others. Publishing before the network settles may lose a line to a
	// node whose links are still changing (as the core's gossip tests, wait
	// for convergence).
	all := map[string]*instance{"alice": a, "bob": b, "carol": c, "dave": d}
	for who, x := range all {
		for other := range all {
			if other != who {
				x.expect(t, "* connected with "+other+" (encrypted)")
			}
		}
	}

	b.say(t, "hello from bob")
	a.expect(t, "<bob> hello from bob")
	c.expect(t, "<bob> hello from bob")
	// Last lines from the other two: once they are in everywhere, a copy of
	// bob's line still on its way would have had a whole round to come.
	a.say(t, "alice here")
	c.say(t, "carol here")
	b.expect(t, "<alice> alice here")
	b.expect(t, "<carol> carol here")
	a.expect(t, "<carol> carol here")
	c.expect(t, "<alice> alice here")
	d.say(t, "anyone in the kitchen?")
	for _, x := range []*instance{a, b, c, d} {
		x.in.Close() // end of input: the chat leaves
		if err := <-x.done; err != nil {
			t.Fatal(err)
		}
		for line := range x.lines {
			x.seen = append(x.seen, line)
		}
	}
	for who, x := range map[string]*instance{"alice": a, "bob": b, "carol": c} {
		for _, line := range []string{"<bob> hello from bob", "<alice> alice here", "<carol> carol here"} {
			want := 1
			if strings.HasPrefix(line, "<"+who+">") {
				want = 0
			}
			if got := x.count(line); got != want {
				t.Errorf("%s printed %q %d times, want %d; output %q", who, line, got, want, x.seen)
			}
		}
		if x.count("<dave> anyone in the kitchen?") != 0 {
			t.Errorf("%s printed another topic's line", who)
		}
	}
	for _, l := range d.seen {
		if strings.HasPrefix(l, "<") {
			t.Errorf("dave (kitchen) printed %q", l)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"x"}, {"x", "t", "a:1", "b:2", "c"}} {
		if err := run(args, strings.NewReader(""), io.Discard); err != errUsage {
			t.Errorf("%q: %v", args, err)
		}
	}
	if err := run([]string{"x", "t", "nocolon"}, strings.NewReader(""), io.Discard); err == nil {
		t.Error("a bootstrap address without a port is an error")
	}
}
