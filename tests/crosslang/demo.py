"""make demo: a ring of six nodes, one per language, each in its own process.

go -> c -> cpp -> csharp -> python -> p2pnetwork -> go: each node dials the
next (the last one is an unmodified p2pnetwork 1.2 node), then every node
greets its two neighbours in every payload kind - text, a JSON dict, bytes
that are not UTF-8 - raw and compressed with zlib, bzip2 and lzma. Every
node prints the events it gets, prefixed with its language. The demo ends by
itself, and exits 0 only if every node got every greeting, exactly.

Over the same ring the p2pnode nodes show their links (native and encrypted
with each other, plaintext with p2pnetwork), subscribe to a topic, discover
more peers from their neighbours and publish one line each: every other
subscriber prints it once, and the p2pnetwork node sees none of it. A
driver without the gossip commands yet is named and left out.

Then the secure node: the secure_node example of each language in a line,
p2psecure <- go <- c <- cpp <- csharp <- python, the first a p2psecure-format
Python peer. Each signs a greeting for its neighbours, the last discovers the
whole network (answers relayed back across languages), and the p2psecure
peer sends a tampered message, which go rejects.

The drivers are build/drivers/<language>-driver and <language>-secure-node
(tests/crosslang/Makefile).
"""
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from harness import LANGS, DriverError, describe, expected, got, in_parallel, start_all
from secure_harness import SECURE_LANGS, P2PSecurePeer, SecureNode, make_keys, stop_all, wait_until

WIDTH = len("[p2psecure/secure]")
_print_lock = threading.Lock()


def say(who, text):
    with _print_lock:
        print("%-*s %s" % (WIDTH, "[%s]" % who, text), flush=True)


def greetings(sender):
    """(what, payload, compression): every kind, raw and with every codec."""
    return [
        ("text", ("hello from %s" % sender).encode(), "none"),
        ("json", json.dumps({"from": sender, "greeting": "hello"}).encode(), "none"),
        ("bytes", b"\xde\xad\xbe\xef " + sender.encode() + b" \xff", "none"),
        ("text", ("hello from %s, squeezed with zlib" % sender).encode(), "zlib"),
        ("json", json.dumps({"from": sender, "codec": "bzip2", "numbers": [1, 2, 3]}).encode(), "bzip2"),
        ("bytes", b"\x80\x81 " + sender.encode() + b" \x00\x04\x02", "lzma"),
    ]


def show(driver, line, stream):
    """Print one line a driver wrote, readably."""
    who = driver.lang
    if stream == "err":
        return say(who, "| " + line)  # what the program itself prints (p2pnetwork does)
    f = line.split(" ")
    if f[0] == "READY":
        return say(who, "listening on 127.0.0.1:%s as %r" % (f[1], driver.name))
    if f[0] == "EVENT":
        name, peer, kind, codec, hexdata = (f + ["-"] * 6)[1:6]
        if name == "node_message":
            data = b"" if hexdata == "-" else bytes.fromhex(hexdata)
            via = "" if codec == "-" else "  (%s)" % codec
            return say(who, "node_message from %s: %s%s" % (peer, describe(kind, data), via))
        if name == "node_topic_message":
            data = b"" if hexdata == "-" else bytes.fromhex(hexdata)
            topic, origin = (f + ["-"] * 8)[6:8]
            return say(who, "topic %s: from %s (via %s): %s" % (topic, origin, peer, describe(kind, data)))
        if name == "node_reconnection_error":
            return say(who, "%s %s (trials %s)" % (name, peer, kind))
        if peer == "-":
            return say(who, name)
        return say(who, "%s: %s" % (name, peer))
    if f[0] == "OK" and len(f) > 2 and f[1] == "peer":
        return say(who, "link with %s: %s%s" % (f[2], f[3], " (its key %s...)" % f[4][:16] if f[4] != "-" else ""))
    if f[0] == "ERR":
        return say(who, "error: " + line)
    # OK replies are not shown: the events tell the story.


def main():
    ring = [(LANGS[i], LANGS[(i + 1) % len(LANGS)]) for i in range(len(LANGS))]
    say("demo", "starting one node per language: " + ", ".join(LANGS))
    nodes = start_all(LANGS, echo=show)
    failed = []
    try:
        for a, b in ring:
            say("demo", "%s connects to %s" % (a, b))
            mark = nodes[b].mark()
            peer = nodes[a].connect(nodes[b].port)
            if peer != b:
                raise DriverError("%s connected to %r, not %r" % (a, peer, b))
            nodes[b].wait_event("inbound_node_connected", a, since=mark)

        say("demo", "every node greets its two neighbours (%d messages each)" % len(greetings("")))
        marks = {lang: d.mark() for lang, d in nodes.items()}

        def greet(lang):
            for _, payload, codec in greetings(lang):
                reply = nodes[lang].broadcast(payload, codec)
                if reply != "OK broadcast":
                    raise DriverError("%s: broadcast -> %s" % (lang, reply))

        in_parallel([lambda lang=lang: greet(lang) for lang in LANGS])

        neighbours = {lang: [a if b == lang else b for a, b in ring if lang in (a, b)] for lang in LANGS}
        want = 2 * len(greetings(""))
        deadline = time.monotonic() + 30

        def complete(lang):
            def enough(evs):
                return sum(e.name == "node_message" for e in evs) >= want
            try:
                nodes[lang].wait(enough, max(0.1, deadline - time.monotonic()), marks[lang])
            except DriverError:
                pass

        in_parallel([lambda lang=lang: complete(lang) for lang in LANGS])

        for lang in LANGS:
            for n in neighbours[lang]:
                exp = [expected(lang, payload, codec) for _, payload, codec in greetings(n)]
                seen = [got(e) for e in nodes[lang].messages(n, marks[lang])]
                if seen != exp:
                    failed.append("%s got %d of %d greetings from %s%s" % (
                        lang, sum(1 for m in seen if m in exp), len(exp), n,
                        "" if len(seen) == len(exp) else " (%d messages)" % len(seen)))
        say("demo", "every node got all %d greetings" % want if not failed
            else "not every node got every greeting")
        gossip_demo(nodes, ring, failed)
        say("demo", "stopping the nodes")
    except DriverError as e:
        failed.append(str(e))
    finally:
        results = in_parallel([lambda d=d: d.stop() for d in nodes.values()])
        for lang, (reply, rc) in zip(nodes, results):
            if reply != "OK stop" or rc != 0:
                failed.append("%s did not stop cleanly (%s, exit status %s)" % (lang, reply, rc))

    if not failed:
        try:
            secure_demo()
        except (AssertionError, RuntimeError, OSError) as e:
            failed.append("secure node: %s" % e)
    if failed:
        for f in failed:
            say("demo", "FAILED: " + f)
        return 1
    say("demo", "ok: %d nodes in %d languages, every node got all %d greetings from its neighbours"
        % (len(LANGS), len(LANGS), want))
    say("demo", "ok: %d secure nodes and a p2psecure peer signed, checked, discovered and rejected "
        "a forgery" % len(SECURE_LANGS))
    return 0


TOPIC = "demo"


def gossip_demo(nodes, ring, failed):
    """Links, then a topic over the ring: each p2pnode node publishes a line."""
    ours = [lang for lang in LANGS if lang != "p2pnetwork"]
    for a, b in ring:
        asker, other = (b, a) if a == "p2pnetwork" else (a, b)
        if nodes[asker].request("peer %s" % other).endswith(" unknown command"):  # shown by show()
            say("demo", "(%s cannot show its links yet)" % asker)
    replies = {lang: nodes[lang].request("subscribe %s" % TOPIC) for lang in ours}
    live = [lang for lang in ours if replies[lang] == "OK subscribe"]
    left_out = [lang for lang in ours if lang not in live]
    say("demo", "topic %r: %s subscribe%s; they discover peers from their neighbours and publish a line each"
        % (TOPIC, ", ".join(live), "" if not left_out else " (%s: no gossip commands yet)" % ", ".join(left_out)))
    marks = {lang: d.mark() for lang, d in nodes.items()}
    for lang in live:
        nodes[lang].request("discover 2")
    for lang in live:
        nodes[lang].request("publish %s %s" % (TOPIC, ("hello %s from %s" % (TOPIC, lang)).encode().hex()))
    deadline = time.monotonic() + 30
    for lang in live:
        want = {(o, ("hello %s from %s" % (TOPIC, o)).encode()) for o in live if o != lang}
        try:
            nodes[lang].wait(lambda evs, want=want: want <= {(e.origin, e.data) for e in evs
                                                            if e.name == "node_topic_message"},
                             max(0.1, deadline - time.monotonic()), marks[lang])
        except DriverError:
            pass
        got_ = [(e.origin, e.data) for e in nodes[lang].topic_messages(marks[lang])]
        if sorted(got_) != sorted(want):
            failed.append("%s got %d topic lines for %d publishes of others" % (lang, len(got_), len(want)))
    ref = [e for e in nodes["p2pnetwork"].since(marks["p2pnetwork"]) if e.name == "node_message"]
    if ref:
        failed.append("the p2pnetwork node got %d messages during the gossip" % len(ref))
    if not failed:
        say("demo", "every subscriber got every other's line once; the p2pnetwork node got none")


class SecureShow:
    """Prints the lines of the secure nodes readably, with names for ids."""

    def __init__(self):
        self.names = {}

    def name(self, node_id):
        return self.names.get(node_id, node_id[:12] + "...")

    def __call__(self, proc, line, stream):
        who = proc.name + "/secure"
        if stream == "err":
            return say(who, "| " + line)
        if proc.name == "p2psecure":
            if line.startswith("EVENT "):
                ev = json.loads(line[6:])
                if ev["event"] == "message":
                    say(who, "signed message from %s, checked: %s" % (
                        self.name(ev["data"]["_id"]), json.dumps(ev["data"]["message"])))
                elif ev["event"] == "rejected":
                    say(who, "rejected a message from %s: %s" % (self.name(ev["peer"]), ev["reason"]))
            return None
        f = line.split(" ", 4)
        if f[0] != "EVENT":
            return None
        if f[1] == "message":
            payload = json.loads(f[4].split(" ", 1)[1])
            say(who, "signed message from %s, checked: %s" % (self.name(f[3]), json.dumps(payload["message"])))
        elif f[1] == "rejected":
            say(who, "rejected a message from %s: %s" % (self.name(f[2]), f[4]))
        elif f[1] == "discovery_answer":
            entries = f[4].split(" ", 1)[0] if len(f) > 4 else "-"
            listed = [self.name(e.split("@")[0]) for e in entries.split(",")] if entries != "-" else []
            say(who, "discovery answer from %s (via %s): connected with %s" % (
                self.name(f[3]), self.name(f[2]), ", ".join(listed) or "nobody"))


def secure_demo():
    say("demo", "secure nodes: p2psecure <- " + " <- ".join(SECURE_LANGS)
        + " (keys in p2psecure's own key file format)")
    show = SecureShow()
    with tempfile.TemporaryDirectory() as d:
        keys = make_keys(Path(d), len(SECURE_LANGS) + 1)
        peer = P2PSecurePeer(keys[0], echo=show)
        show.names[peer.id] = "p2psecure"
        nodes = []
        try:
            prev = peer
            for i, lang in enumerate(SECURE_LANGS):
                n = SecureNode(lang, keys[i + 1], echo=show)
                show.names[n.id] = lang
                nodes.append(n)
                n.command("connect 127.0.0.1 %d" % prev.port)
                prev = n
            say("demo", "every secure node signs a greeting for its neighbours")
            marks = [n.mark() for n in nodes]
            peer_mark = peer.mark()
            for n in nodes:
                n.command("message " + json.dumps({"from": n.name, "greeting": "signed hello"}))
            for i, n in enumerate(nodes):
                want = 1 + (i > 0) if i + 1 < len(nodes) else 1
                wait_until(lambda: len(n.messages(marks[i])) >= want, n.name + "'s greetings")
            peer.wait_event("message", start=peer_mark)
            last = nodes[-1]
            say("demo", "%s discovers the network" % last.name)
            mark = last.mark()
            last.command("discovery")
            wait_until(lambda: len(last.events("discovery_answer", mark)) >= len(nodes),
                       "answers from every other node")
            say("demo", "the p2psecure peer sends a message changed after signing")
            mark = nodes[0].mark()
            peer.send(cmd="tampered", message="pay 10")
            nodes[0].wait_event("rejected", start=mark)
        finally:
            stop_all(nodes + [peer])


if __name__ == "__main__":
    sys.exit(main())
