// Command driver is the Go driver of the cross-language demo and test
// (tests/crosslang): a p2pnode node driven over stdin/stdout by the line
// protocol every language's driver speaks.
//
//	driver <name> [port]
//
// It starts a node on 127.0.0.1 (port 0: a free one) with id <name>, prints
// "READY <port>", then answers one line per command read from stdin:
//
//	connect <port> [reconnect]                   OK connect <peer-id> | ERR connect <code> <message>
//	send <peer-id> <compression> <hex|->         OK send | ERR send <code> <message>
//	broadcast <compression> <hex|->              OK broadcast | ERR broadcast <code> <message>
//	disconnect <peer-id>                         OK disconnect | ERR disconnect <code> <message>
//	peers                                        OK peers <id>,<id>,... | OK peers -
//	key                                          OK key <hex> (its public identity key)
//	peer <peer-id>                               OK peer <peer-id> encrypted <key-hex> | OK peer <peer-id> plaintext -
//	discover <target-peers>                      OK discover | ERR discover <code> <message>
//	known                                        OK known <id>@<host>:<port>,... | OK known -
//	subscribe <topic>                            OK subscribe | ERR subscribe <code> <message>
//	unsubscribe <topic>                          OK unsubscribe | ERR unsubscribe <code> <message>
//	publish <topic> <hex|->                      OK publish | ERR publish <code> <message>
//	stop (or end of input)                       the stop events, then OK stop; exit 0
//
// With P2P_IDENTITY=<path> in its environment it loads its identity key from
// that file, or generates one and saves it there when the file does not exist,
// so a driver restarted under the same name keeps its key.
//
// Events are printed as they come:
//
//	EVENT <event-name> <peer-id|-> <kind|-> <compression|-> <hex|->
//	EVENT node_reconnection_error <host>:<port> <trials> - -     (answered true)
//	EVENT node_topic_message <peer-id> <kind> <compression> <hex|-> <topic> <origin-id>
package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/native"
)

var (
	outMu sync.Mutex
	out   = bufio.NewWriter(os.Stdout)
)

// say writes one protocol line and flushes it.
func say(format string, args ...any) {
	outMu.Lock()
	defer outMu.Unlock()
	fmt.Fprintf(out, format+"\n", args...)
	out.Flush()
}

func hexOrDash(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

func parseHex(s string) ([]byte, error) {
	if s == "-" {
		return nil, nil
	}
	return hex.DecodeString(s)
}

func onEvent(ev *p2p.Event) bool {
	switch ev.Type {
	case p2p.EventMessage:
		say("EVENT %s %s %s %s %s", ev.Type, ev.Peer.ID(), ev.Message.Kind, ev.Message.Compression, hexOrDash(ev.Message.Data))
	case p2p.EventTopicMessage:
		say("EVENT %s %s %s %s %s %s %s", ev.Type, ev.Peer.ID(), ev.Message.Kind, ev.Message.Compression,
			hexOrDash(ev.Message.Data), ev.Topic, ev.Origin)
	case p2p.EventReconnectionError:
		say("EVENT %s %s:%d %d - -", ev.Type, ev.Host, ev.Port, ev.Trials)
		return true
	case p2p.EventRequestToStop:
		say("EVENT %s - - - -", ev.Type)
	default:
		say("EVENT %s %s - - -", ev.Type, ev.Peer.ID())
	}
	return true
}

// code is the C ABI status of err, for ERR lines in the same terms as the
// other drivers.
func code(err error) int {
	var opErr *net.OpError
	switch {
	case errors.Is(err, p2p.ErrInvalidArgument), errors.Is(err, p2p.ErrUnsupportedValue):
		return -1
	case errors.Is(err, p2p.ErrNotStarted), errors.Is(err, p2p.ErrAlreadyStarted):
		return -3
	case errors.Is(err, p2p.ErrStopped):
		return -4
	case errors.Is(err, p2p.ErrSelfConnect):
		return -5
	case errors.Is(err, p2p.ErrAlreadyConnected):
		return -6
	case errors.Is(err, p2p.ErrEncryptionRequired), errors.Is(err, p2p.ErrKeyMismatch),
		errors.Is(err, p2p.ErrNotAllowed), errors.Is(err, p2p.ErrDowngrade):
		return -19
	case errors.Is(err, p2p.ErrRefused), errors.As(err, &opErr):
		return -7
	case errors.Is(err, p2p.ErrHandshake):
		return -8
	case errors.Is(err, p2p.ErrPeerClosed), errors.Is(err, p2p.ErrUnknownPeer):
		return -9
	case errors.Is(err, p2p.ErrQueueFull):
		return -10
	case errors.Is(err, p2p.ErrMessageTooLarge):
		return -11
	}
	return -15
}

func peerByID(n *p2p.Node, id string) *p2p.Peer {
	for _, p := range n.All() {
		if p.ID() == id {
			return p
		}
	}
	return nil
}

// newNode makes the driver's node; with an identity path it loads the key
// from there, or saves the node's generated key there when there is none yet.
func newNode(cfg p2p.Config, idPath string) (*p2p.Node, error) {
	if idPath == "" {
		return p2p.NewWithCallback(cfg, onEvent)
	}
	key, err := native.LoadIdentity(idPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	cfg.Identity = key
	n, err := p2p.NewWithCallback(cfg, onEvent)
	if err == nil && key == nil {
		err = native.SaveIdentity(idPath, n.IdentityKey())
	}
	return n, err
}

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: driver <name> [port]")
		os.Exit(2)
	}
	port := 0
	if len(os.Args) == 3 {
		var err error
		if port, err = strconv.Atoi(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "driver: bad port:", os.Args[2])
			os.Exit(2)
		}
	}
	n, err := newNode(p2p.Config{Host: "127.0.0.1", Port: port, ID: os.Args[1]}, os.Getenv("P2P_IDENTITY"))
	if err == nil {
		err = n.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "driver:", err)
		os.Exit(1)
	}
	say("READY %d", n.Port())

	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	for {
		line, rerr := in.ReadString('\n')
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == "stop" || len(f) == 0 && rerr != nil {
			break
		}
		if len(f) > 0 {
			command(n, f)
		}
		if rerr != nil {
			break
		}
	}
	n.Stop()
	say("OK stop")
}

func command(n *p2p.Node, f []string) {
	cmd := f[0]
	fail := func(err error) { say("ERR %s %d %v", cmd, code(err), err) }
	usage := func() { say("ERR %s -1 bad arguments", cmd) }
	switch cmd {
	case "connect":
		if len(f) < 2 || len(f) > 3 {
			usage()
			return
		}
		port, err := strconv.Atoi(f[1])
		if err != nil {
			usage()
			return
		}
		p, err := n.Connect("127.0.0.1", port, len(f) == 3 && f[2] == "reconnect")
		if err != nil {
			fail(err)
			return
		}
		say("OK connect %s", p.ID())
	case "send", "broadcast":
		want := 4
		if cmd == "broadcast" {
			want = 3
		}
		if len(f) != want {
			usage()
			return
		}
		c, err := p2p.ParseCompression(f[want-2])
		if err != nil {
			usage()
			return
		}
		data, err := parseHex(f[want-1])
		if err != nil {
			usage()
			return
		}
		if cmd == "broadcast" {
			err = n.SendToNodes(data, nil, c)
		} else if p := peerByID(n, f[1]); p == nil {
			say("ERR send -9 no peer %s", f[1])
			return
		} else {
			err = p.Send(data, c)
		}
		if err != nil {
			fail(err)
			return
		}
		say("OK %s", cmd)
	case "disconnect":
		if len(f) != 2 {
			usage()
			return
		}
		p := peerByID(n, f[1])
		if p == nil {
			say("ERR disconnect -9 no peer %s", f[1])
			return
		}
		if err := n.Disconnect(p); err != nil {
			fail(err)
			return
		}
		say("OK disconnect")
	case "peers":
		var ids []string
		for _, p := range n.All() {
			ids = append(ids, p.ID())
		}
		if len(ids) == 0 {
			say("OK peers -")
		} else {
			say("OK peers %s", strings.Join(ids, ","))
		}
	case "key":
		say("OK key %s", hex.EncodeToString(n.PublicKey()))
	case "peer":
		if len(f) != 2 {
			usage()
			return
		}
		p := peerByID(n, f[1])
		switch {
		case p == nil:
			say("ERR peer -9 no peer %s", f[1])
		case p.Encrypted():
			say("OK peer %s encrypted %s", p.ID(), hex.EncodeToString(p.PeerKey()))
		default:
			say("OK peer %s plaintext -", p.ID())
		}
	default:
		gossip(n, f, fail, usage)
	}
}

// gossip answers the discovery and topic commands (issue 21).
func gossip(n *p2p.Node, f []string, fail func(error), usage func()) {
	cmd := f[0]
	var err error
	switch {
	case cmd == "discover" && len(f) == 2:
		k, perr := strconv.Atoi(f[1])
		if perr != nil {
			usage()
			return
		}
		err = n.Discover(k)
	case cmd == "known" && len(f) == 1:
		var known []string
		for _, k := range n.KnownPeers() {
			known = append(known, fmt.Sprintf("%s@%s:%d", k.ID, k.Host, k.Port))
		}
		if len(known) == 0 {
			known = []string{"-"}
		}
		say("OK known %s", strings.Join(known, ","))
		return
	case cmd == "subscribe" && len(f) == 2:
		err = n.Subscribe(f[1])
	case cmd == "unsubscribe" && len(f) == 2:
		err = n.Unsubscribe(f[1])
	case cmd == "publish" && len(f) == 3:
		data, herr := parseHex(f[2])
		if herr != nil {
			usage()
			return
		}
		err = n.Publish(f[1], data)
	case cmd == "discover" || cmd == "known" || cmd == "subscribe" || cmd == "unsubscribe" || cmd == "publish":
		usage()
		return
	default:
		say("ERR %s -1 unknown command", cmd)
		return
	}
	if err != nil {
		fail(err)
		return
	}
	say("OK %s", cmd)
}
