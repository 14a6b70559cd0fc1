// Command secure_node is a command-line secure node, as p2psecure's
// examples/secure_node.py: signed JSON messages, ping and discovery.
//
//	secure_node <key-file> <password> [port]
//
//	secure_node aes <file> <password> [text]
//
// The second form is p2psecure's examples/secure_node_aes.py: with text it
// first encrypts text into file under password (p2psecure's
// encrypt_aes_file_pw), then prints "FILE <plaintext>" (decrypt_aes_file_pw)
// and round-trips a string through encrypt_aes_pw and decrypt_aes_pw
// ("CIPHER <base64>", "PLAIN <text>"); the files are p2psecure's format.
//
// The key file is loaded when it exists, otherwise a new 4096-bit key is
// generated and saved there. Then it prints "READY <port> <id>" and reads
// commands: connect <host> <port>, message <json>, ping, discovery, status,
// stop. The exact lines it reads and writes are in tests/crosslang/README.md
// ("The secure node examples").
package main

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/p2pnode/p2pnode/p2p"
	"github.com/p2pnode/p2pnode/p2p/secure"
)

// printer writes whole lines from any goroutine.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) say(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// events prints the node's events, one line each.
type events struct {
	secure.BaseHandler
	out *printer
}

func (e events) InboundNodeConnected(p *p2p.Peer)  { e.out.say("EVENT connected %s inbound", p.ID()) }
func (e events) OutboundNodeConnected(p *p2p.Peer) { e.out.say("EVENT connected %s outbound", p.ID()) }
func (e events) InboundNodeDisconnected(p *p2p.Peer) {
	e.out.say("EVENT disconnected %s", p.ID())
}
func (e events) OutboundNodeDisconnected(p *p2p.Peer) {
	e.out.say("EVENT disconnected %s", p.ID())
}
func (e events) NodeSecureMessage(p *p2p.Peer, m *secure.Message) {
	e.out.say("EVENT message %s %s %s %s", p.ID(), m.ID, m.Type, m.Payload)
}
func (e events) NodeMessageRejected(p *p2p.Peer, _ p2p.Message, reason error) {
	e.out.say("EVENT rejected %s %d %v", p.ID(), secure.ReasonCode(reason), reason)
}
func (e events) NodeDiscoveryAnswer(p *p2p.Peer, a *secure.DiscoveryAnswer) {
	list := make([]string, len(a.Nodes))
	for i, n := range a.Nodes {
		list[i] = fmt.Sprintf("%s@%s:%d/%s", n.ID, n.IP, n.Port, n.Connection)
	}
	if len(list) == 0 {
		list = []string{"-"}
	}
	e.out.say("EVENT discovery_answer %s %s %s", p.ID(), a.Message.ID, strings.Join(list, ","))
}

// loadOrGenerate loads the key file, or makes a key and saves it there.
func loadOrGenerate(path, password string, stderr io.Writer) (*secure.Key, error) {
	if _, err := os.Stat(path); err == nil {
		return secure.LoadKey(path, password)
	}
	fmt.Fprintln(stderr, "New node: generating a 4096-bit key, which can take a few seconds...")
	key, err := secure.GenerateKey(0)
	if err != nil {
		return nil, err
	}
	return key, key.Save(path, password)
}

// aes is the program's second form (p2psecure's secure_node_aes.py).
func aes(args []string, stdout io.Writer) error {
	if len(args) < 2 {
		return errors.New("usage: secure_node aes <file> <password> [text]")
	}
	file, password := args[0], []byte(args[1])
	if len(args) > 2 {
		if err := secure.EncryptAESFilePassword(file, password, []byte(strings.Join(args[2:], " "))); err != nil {
			return err
		}
	}
	plain, err := secure.DecryptAESFilePassword(file, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "FILE %s\n", plain)
	ct, err := secure.EncryptAESPassword([]byte("this is the passwd"), []byte("Hoi daar!"))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "CIPHER %s\n", base64.StdEncoding.EncodeToString(ct))
	back, err := secure.DecryptAESPassword([]byte("this is the passwd"), ct)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "PLAIN %s\n", back)
	return nil
}

// run is the whole program: args without the program name.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "aes" {
		return aes(args[1:], stdout)
	}
	if len(args) < 2 {
		return errors.New("usage: secure_node <key-file> <password> [port]")
	}
	port := 0
	if len(args) > 2 {
		var err error
		if port, err = strconv.Atoi(args[2]); err != nil {
			return fmt.Errorf("port %q: %w", args[2], err)
		}
	}
	key, err := loadOrGenerate(args[0], args[1], stderr)
	if err != nil {
		return fmt.Errorf("key %s: %w", args[0], err)
	}
	out := &printer{w: stdout}
	node, err := secure.New(secure.Config{Config: p2p.Config{Host: "127.0.0.1", Port: port}}, key, events{out: out})
	if err != nil {
		return err
	}
	if err := node.Start(); err != nil {
		return err
	}
	out.say("READY %d %s", node.Port(), node.ID())
	lines := bufio.NewScanner(stdin)
	lines.Buffer(make([]byte, 64<<10), 16<<20)
	for lines.Scan() {
		if lines.Text() == "stop" {
			break
		}
		command(node, out, lines.Text())
	}
	err = node.Stop() // the disconnected events still print
	out.say("OK stop")
	return err
}

func command(node *secure.Node, out *printer, line string) {
	verb, rest, _ := strings.Cut(line, " ")
	reply := func(err error) {
		if err != nil {
			out.say("ERR %s -1 %v", verb, err)
			return
		}
		out.say("OK %s", verb)
	}
	switch verb {
	case "connect":
		var host string
		var port int
		if _, err := fmt.Sscanf(rest, "%s %d", &host, &port); err != nil {
			reply(err)
			return
		}
		p, err := node.Connect(host, port, false)
		if err != nil {
			reply(err)
			return
		}
		out.say("OK connect %s", p.ID())
	case "message":
		v, err := secure.Parse([]byte(rest))
		if err == nil {
			err = node.SendMessage(v)
		}
		reply(err)
	case "ping":
		reply(node.SendPing())
	case "discovery":
		reply(node.SendDiscovery())
	case "status":
		var list []string
		for _, p := range node.P2P().All() {
			ping := "-"
			if v, ok := p.Info("ping"); ok {
				ping = strconv.FormatFloat(v.(float64), 'g', -1, 64)
			}
			list = append(list, p.ID()+"="+ping)
		}
		if len(list) == 0 {
			list = []string{"-"}
		}
		out.say("OK status %s", strings.Join(list, ","))
	case "":
	default:
		out.say("ERR %s -1 unknown command", verb)
	}
}

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "secure_node:", err)
		os.Exit(1)
	}
}
