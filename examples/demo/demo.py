"""make demo: a ring of six nodes, one per language, each in its own process.

go -> c -> cpp -> csharp -> python -> p2pnetwork -> go: each node dials the
next (the last one is an unmodified p2pnetwork 1.2 node), then every node
greets its two neighbours in every payload kind - text, a JSON dict, bytes
that are not UTF-8 - raw and compressed with zlib, bzip2 and lzma. Every
node prints the events it gets, prefixed with its language. The demo ends by
itself, and exits 0 only if every node got every greeting, exactly.

The drivers are build/drivers/<language>-driver (examples/demo/Makefile).
"""
import json
import sys
import threading
import time

from harness import LANGS, DriverError, describe, expected, got, in_parallel, start_all

WIDTH = max(len(lang) for lang in LANGS) + 3
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
        if name == "node_reconnection_error":
            return say(who, "%s %s (trials %s)" % (name, peer, kind))
        if peer == "-":
            return say(who, name)
        return say(who, "%s: %s" % (name, peer))
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
        say("demo", "every node got all %d greetings; stopping the nodes" % want if not failed
            else "not every node got every greeting; stopping the nodes")
    except DriverError as e:
        failed.append(str(e))
    finally:
        results = in_parallel([lambda d=d: d.stop() for d in nodes.values()])
        for lang, (reply, rc) in zip(nodes, results):
            if reply != "OK stop" or rc != 0:
                failed.append("%s did not stop cleanly (%s, exit status %s)" % (lang, reply, rc))

    if failed:
        for f in failed:
            say("demo", "FAILED: " + f)
        return 1
    say("demo", "ok: %d nodes in %d languages, every node got all %d greetings from its neighbours"
        % (len(LANGS), len(LANGS), want))
    return 0


if __name__ == "__main__":
    sys.exit(main())
