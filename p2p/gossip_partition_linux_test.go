package p2p_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/p2pnode/p2pnode/p2p"
)

// A partition made with network namespaces: two groups of nodes, each in a
// namespace of its own (the test binary re-executed under `ip netns exec`),
// linked by a veth pair. The link goes down: each side heals from its own
// half; it comes back: discovery's exploration finds the other half again and
// new publishes reach everyone.

const (
	partNodes = 6 // per side
	partIPA   = "10.77.0.1"
	partIPB   = "10.77.0.2"
)

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	require.NoError(t, err, "ip %s: %s", strings.Join(args, " "), out)
}

// side is one child process: a group of nodes in one namespace, driven by
// line commands on its stdin.
type side struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startSide(t *testing.T, ns, role, ip, boot string) *side {
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run", "^TestGossipPartitionSide$", "-test.v")
	cmd.Env = append(os.Environ(), "GOSSIP_SIDE="+role, "GOSSIP_SIDE_IP="+ip, "GOSSIP_SIDE_BOOT="+boot)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	s := &side{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Wait()
	})
	return s
}

// ask sends a command and returns the answer line (after "@@ ").
func (s *side) ask(t *testing.T, cmd string) string {
	t.Helper()
	_, err := fmt.Fprintln(s.in, cmd)
	require.NoError(t, err)
	for s.out.Scan() {
		l := s.out.Text()
		if strings.HasPrefix(l, "@@ ") {
			return strings.TrimPrefix(l, "@@ ")
		}
		t.Logf("side: %s", l)
	}
	t.Fatalf("side ended before answering %q: %v", cmd, s.out.Err())
	return ""
}

func (s *side) num(t *testing.T, cmd string) int {
	v, err := strconv.Atoi(s.ask(t, cmd))
	require.NoError(t, err)
	return v
}

func TestGossipPartition(t *testing.T) {
	if os.Getenv("GOSSIP_SIDE") != "" {
		t.Skip("a side process")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command (iproute2): the namespace partition test cannot run")
	}
	sfx := strconv.Itoa(os.Getpid())
	nsA, nsB := "p2pA"+sfx, "p2pB"+sfx
	if out, err := exec.Command("ip", "netns", "add", nsA).CombinedOutput(); err != nil {
		t.Skipf("ip netns is unavailable here (%v: %s): the namespace partition test cannot run", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", nsA).Run() })
	ipCmd(t, "netns", "add", nsB)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", nsB).Run() })
	vA, vB := "vA"+sfx, "vB"+sfx
	if len(vA) > 15 {
		vA, vB = vA[:15], vB[:15]
	}
	ipCmd(t, "link", "add", vA, "type", "veth", "peer", "name", vB)
	ipCmd(t, "link", "set", vA, "netns", nsA)
	ipCmd(t, "link", "set", vB, "netns", nsB)
	ipCmd(t, "-n", nsA, "addr", "add", partIPA+"/24", "dev", vA)
	ipCmd(t, "-n", nsB, "addr", "add", partIPB+"/24", "dev", vB)
	for _, ns := range []string{nsA, nsB} {
		ipCmd(t, "-n", ns, "link", "set", "lo", "up")
	}
	ipCmd(t, "-n", nsA, "link", "set", vA, "up")
	ipCmd(t, "-n", nsB, "link", "set", vB, "up")

	a := startSide(t, nsA, "A", partIPA, "")
	bootA := a.ask(t, "boot")
	b := startSide(t, nsB, "B", partIPB, bootA)
	b.ask(t, "boot")
	all := 2 * partNodes
	waitFor(t, 60*time.Second, "both sides linked", func() bool { return a.num(t, "cross") > 0 && b.num(t, "cross") > 0 })
	require.Equal(t, "ok", a.ask(t, "pub before"))
	waitFor(t, 30*time.Second, "delivery across", func() bool {
		return a.num(t, "count before")+b.num(t, "count before") == all-1
	})

	// Cut: heartbeats end the links across; each side keeps delivering.
	ipCmd(t, "-n", nsA, "link", "set", vA, "down")
	waitFor(t, 30*time.Second, "the links across gone", func() bool { return a.num(t, "cross") == 0 && b.num(t, "cross") == 0 })
	require.Equal(t, "ok", a.ask(t, "pub cut"))
	waitFor(t, 30*time.Second, "delivery on side A", func() bool { return a.num(t, "count cut") == partNodes-1 })
	require.Zero(t, b.num(t, "count cut"))

	// Heal: the sides find each other again.
	ipCmd(t, "-n", nsA, "link", "set", vA, "up")
	waitFor(t, 3*time.Minute, "the sides linked again", func() bool { return a.num(t, "cross") > 0 && b.num(t, "cross") > 0 })
	require.Equal(t, "ok", b.ask(t, "pub healed"))
	waitFor(t, 30*time.Second, "delivery after the heal", func() bool {
		return a.num(t, "count healed")+b.num(t, "count healed") == all-1
	})
	a.ask(t, "quit")
	b.ask(t, "quit")
}

// TestGossipPartitionSide is one side of TestGossipPartition, run by it in
// a namespace; it does nothing on its own.
func TestGossipPartitionSide(t *testing.T) {
	role := os.Getenv("GOSSIP_SIDE")
	if role == "" {
		t.Skip("run by TestGossipPartition")
	}
	ip, remote := os.Getenv("GOSSIP_SIDE_IP"), os.Getenv("GOSSIP_SIDE_BOOT")
	w := newGnet(t, p2p.Config{Host: ip, Limits: p2p.Limits{HeartbeatInterval: 300 * time.Millisecond}})
	boot := w.add()
	for range partNodes - 1 {
		g := w.add()
		w.join(g, boot.n.Port(), 3)
	}
	if remote != "" {
		host, port, _ := strings.Cut(remote, ":")
		pn, _ := strconv.Atoi(port)
		_, err := boot.n.Connect(host, pn, false)
		require.NoError(t, err)
	}
	require.NoError(t, boot.n.Discover(3))
	for _, g := range w.nodes {
		require.NoError(t, g.n.Subscribe("p"))
	}
	in := bufio.NewScanner(os.Stdin)
	answer := func(s string) { fmt.Printf("@@ %s\n", s) }
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "boot":
			answer(fmt.Sprintf("%s:%d", ip, boot.n.Port()))
		case "cross":
			c := 0
			for _, g := range w.nodes {
				for _, p := range g.n.All() {
					if p.Host() != ip && p.Encrypted() {
						c++
					}
				}
			}
			answer(strconv.Itoa(c))
		case "pub":
			if err := w.nodes[1].n.Publish("p", []byte(f[1])); err != nil {
				answer(err.Error())
			} else {
				answer("ok")
			}
		case "count":
			c := 0
			for _, g := range w.nodes {
				c += g.count("p", f[1])
			}
			answer(strconv.Itoa(c))
		case "quit":
			answer("bye")
			return
		}
	}
}
