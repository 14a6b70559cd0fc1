"""Cross-language test: nodes in Go, C, C++, C#, Python (p2pnode) and an
unmodified p2pnetwork 1.2 node talk to each other, each in its own process,
driven over pipes (see harness.py and the drivers in drivers/<language>/).

What runs, and why this selection (one process per language for the whole
module, plus short-lived ones for the reconnect tests):

1. Pairs - all 30 ordered pairs (a dials b), in two rounds: first every
   lower language in LANGS dials every higher one (15 connections at once),
   then the reverse; so the p2pnetwork node is the dialled side in round 1
   and the dialler in round 2. Over each connection both ends send SMALL (text,
   JSON dict, non-UTF-8 bytes, unicode text: one message per codec none, zlib,
   bzip2, lzma); then a disconnects and both sides must report it.
   Over each connection both ends also report their link (driver command
   "peer"): between two p2pnode drivers it is the native protocol, encrypted,
   each side holding the key the other reports as its own ("key"); with the
   p2pnetwork node it is plaintext.
   Tests: test_connect, test_link, test_messages, test_disconnect (30 each).
2. Matrix - the full payload x compression matrix (FULL: 12 payloads incl.
   empty, 0x04 inside, 0x02 at the end, JSON number/string/compact JSON,
   32 KiB text, 16 KiB random bytes; x 4 codecs) over a ring that spans every
   language (go->c->cpp->csharp->python->p2pnetwork->go, each dialling the
   next), both directions on every link: 12 directed edges, each language
   sending to two and receiving from two, as dialler and as dialled side.
   Tests: test_matrix[sender-receiver-codec] (48).
3. Reconnect - a dialler connects with reconnect=True to a fresh peer
   process, the peer stops, the dialler reports the loss and
   node_reconnection_error, a new peer process starts on the same port and
   the dialler reconnects; a message goes each way on the new connection.
   The restarted process has the same identity key (the harness gives each
   driver name one key file, P2P_IDENTITY): the dialler's trust-on-first-use
   pin for that id takes it back, as it would refuse any other key.
   Every language is the restarted peer once; the diallers are the five
   p2pnode languages (p2pnetwork 1.2's reconnect is broken: 'tries' vs
   'trials', and it never notices a closed connection). Tests: 6.
4. Stop - every process stops on "stop": node_request_to_stop, "OK stop",
   exit status 0; the p2pnetwork node saw nothing but p2pnetwork's own events
   over the whole module (its messages are compared one by one in 1 and 2,
   so no negotiation byte reached it as a message). Tests: 7.

A driver that lacks a command of the 0.4 protocol (key, peer, P2P_IDENTITY;
tests/crosslang/README.md) makes its tests skip with a reason naming it, and
the suite's summary counts the skips: none once every driver has it.

Comparisons: the Go, C, C++ and C# drivers report the exact bytes, kind
(json/text/bytes) and codec, compared byte for byte (a payload sent with
"none" that raw framing cannot carry travels zlib). The Python and
p2pnetwork drivers get a Python value from the p2pnetwork API: they are
compared with what p2pnetwork's own parse_packet yields for the frame
(kind by the value's type, bytes as p2pnetwork re-encodes it: json.dumps for
JSON values, UTF-8 for str; codec "-"). p2pnetwork 1.2 cannot send an empty
payload, nor raw one holding 0x04 or ending in 0x02: it does not send those.
"""
import json
import os
import random
import sys
import threading
import time
from contextlib import nullcontext

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (COMPRESSIONS, LANGS, Driver, DriverError, expected, got,  # noqa: E402
                     in_parallel, sendable, start_all)

PAIRS = [(a, b) for a in LANGS for b in LANGS if a != b]
RING = [(LANGS[i], LANGS[(i + 1) % len(LANGS)]) for i in range(len(LANGS))]
EDGES = RING + [(b, a) for a, b in RING]
RECONNECT = [("go", "p2pnetwork"), ("c", "go"), ("cpp", "c"), ("csharp", "cpp"),
             ("python", "csharp"), ("go", "python")]
PHASE_TIMEOUT = 40.0
# The event methods of p2pnetwork 1.2: all its node may ever report.
P2PNETWORK_EVENTS = {"outbound_node_connected", "inbound_node_connected", "outbound_node_disconnected",
                     "inbound_node_disconnected", "node_message", "node_disconnect_with_outbound_node",
                     "node_request_to_stop", "node_reconnection_error"}


def SMALL(sender, receiver):
    return [
        ("text", ("hello %s, this is %s" % (receiver, sender)).encode(), "none"),
        ("json", json.dumps({"from": sender, "to": receiver, "n": [1, 2, 3]}).encode(), "zlib"),
        ("bytes", b"\xff\xfe\x00" + sender.encode() + b"\x80", "bzip2"),
        ("unicode", ("grüße from %s ✓" % sender).encode(), "lzma"),
    ]


FULL = [
    ("text", b"hello, world"),
    ("unicode", "grüße, 世界 ✓".encode()),
    ("json-dict", json.dumps({"name": "Maurice", "number": 11, "list": [1, 2.5, None, True],
                              "nested": {"k": "v"}}).encode()),
    ("json-compact", b'{"a":[1,2],"b":"c"}'),
    ("json-number", b"123"),
    ("json-string", b'"quoted"'),
    ("bytes", b"\xff\xfe\xfd\x00\x80"),
    ("bytes-eot", b"\x01\x02\x03\x04\xff\x04\x02"),
    ("text-stx-end", b"ends with stx\x02"),
    ("empty", b""),
    ("large-text", b"0123456789abcdef" * 2048),
    ("large-bytes", random.Random(7).randbytes(16384)),
]


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return max(0.1, self.end - time.monotonic())


# ---- the processes ----------------------------------------------------------------

@pytest.fixture(scope="module")
def net():
    nodes = start_all(LANGS)
    yield nodes
    for d in nodes.values():
        if d.proc.poll() is None:
            d.stop(timeout=15)
        d.kill()


def _msg_count(evs, peer):
    return sum(1 for e in evs if e.name == "node_message" and e.peer == peer)


def _connect_all(net, links, res):
    """Each dialler dials its peers in turn, the diallers in parallel. Dials to
    the p2pnetwork node go one at a time (it handshakes one connection at a
    time and listens with a backlog of 1)."""
    ref_lock = threading.Lock()
    by_dialler = {}
    for a, b in links:
        by_dialler.setdefault(a, []).append(b)

    def dial(a):
        for b in by_dialler[a]:
            try:
                with ref_lock if b == "p2pnetwork" else nullcontext():
                    res[(a, b)]["connect"] = net[a].connect(net[b].port)
            except Exception as e:  # noqa: BLE001 - recorded for the pair's test
                res[(a, b)]["error"] = e

    in_parallel([lambda a=a: dial(a) for a in by_dialler])


def _links(net, links, res):
    """Both ends' "peer" replies about each other, for test_link."""
    def ask(a, b):
        if "error" not in res[(a, b)]:
            res[(a, b)]["link"] = {a: net[a].request("peer %s" % b), b: net[b].request("peer %s" % a)}

    in_parallel([lambda a=a, b=b: ask(a, b) for a, b in links])


@pytest.fixture(scope="module")
def keys(net):
    """Each p2pnode driver's "key" reply (the p2pnetwork node has none)."""
    langs = [lang for lang in LANGS if lang != "p2pnetwork"]
    return dict(zip(langs, in_parallel([lambda lang=lang: net[lang].request("key") for lang in langs])))


def unsupported(lang, reply, what):
    """Skip, naming the driver and the command of the 0.4 protocol it lacks."""
    if reply.endswith(" unknown command"):
        pytest.skip("the %s driver has no %s yet (tests/crosslang/README.md): %r" % (lang, what, reply))


def _exchange(net, links, res, marks, messages):
    """Both ends of every link send messages(sender, receiver); waits until
    every receiver has them all; records them in res."""
    deadline = Deadline(PHASE_TIMEOUT)
    live = [(a, b) for a, b in links if "error" not in res[(a, b)]]
    plan = {lang: [] for lang in net}   # sender -> [(receiver, label, payload, codec)]
    want = {lang: {} for lang in net}   # receiver -> {sender: count}
    for a, b in live:
        for s, r in ((a, b), (b, a)):
            for label, payload, codec in messages(s, r):
                if sendable(s, payload, codec):
                    plan[s].append((r, label, payload, codec))
                    want[r][s] = want[r].get(s, 0) + 1
    for a, b in live:
        res[(a, b)]["sent"] = {(s, r): [(label, codec, expected(r, payload, codec))
                                        for rr, label, payload, codec in plan[s] if rr == r]
                               for s, r in ((a, b), (b, a))}

    def send_all(s):
        for r, label, payload, codec in plan[s]:
            reply = net[s].send(r, payload, codec)
            if reply != "OK send":
                key = (s, r) if (s, r) in res else (r, s)
                res[key].setdefault("send_errors", []).append("%s %s: %s" % (label, codec, reply))

    in_parallel([lambda s=s: send_all(s) for s in net])

    def wait_all(r):
        try:
            net[r].wait(lambda evs: all(_msg_count(evs, s) >= n for s, n in want[r].items()),
                        deadline.left(), marks[r])
        except DriverError:
            pass  # the tests compare what arrived with what was sent

    in_parallel([lambda r=r: wait_all(r) for r in net])
    for a, b in live:
        res[(a, b)]["got"] = {(s, r): [got(e) for e in net[r].messages(s, marks[r])]
                              for s, r in ((a, b), (b, a))}


def _disconnect_all(net, links, res):
    """Each dialler drops its peers; waits for the events on both sides. The
    p2pnetwork node notices a peer that closed only when a send to it fails:
    when it is the dropped side it sends probes until it reports the loss."""
    deadline = Deadline(PHASE_TIMEOUT)
    live = [(a, b) for a, b in links if "error" not in res[(a, b)]]
    marks = {lang: d.mark() for lang, d in net.items()}
    by_dialler = {}
    for a, b in live:
        by_dialler.setdefault(a, []).append(b)

    def drop(a):
        for b in by_dialler[a]:
            res[(a, b)]["disconnect"] = net[a].request("disconnect %s" % b)

    in_parallel([lambda a=a: drop(a) for a in by_dialler])

    def settle(a, b):
        r = res[(a, b)]
        try:
            net[a].wait(lambda evs: any(e.name == "outbound_node_disconnected" and e.peer == b for e in evs),
                        deadline.left(), marks[a])
        except DriverError:
            pass
        if b == "p2pnetwork":
            r["probes"] = 0
            while time.monotonic() < deadline.end and r["probes"] < 20:
                try:
                    net[b].wait_event("inbound_node_disconnected", a, 0.5, marks[b])
                    break
                except DriverError:
                    r["probes"] += 1
                    if not net[b].send(a, b"probe").startswith("OK"):
                        break
        try:
            net[b].wait(lambda evs: any(e.name == "inbound_node_disconnected" and e.peer == a for e in evs),
                        deadline.left(), marks[b])
        except DriverError:
            pass
        r["events_a"] = [(e.name, e.peer) for e in net[a].since(marks[a]) if e.peer == b]
        r["events_b"] = [(e.name, e.peer) for e in net[b].since(marks[b]) if e.peer == a]

    in_parallel([lambda a=a, b=b: settle(a, b) for a, b in live])


@pytest.fixture(scope="module")
def pairs(net):
    """Rounds 1 and 2 of the pairs phase; the result of every ordered pair."""
    res = {p: {} for p in PAIRS}
    order = {lang: i for i, lang in enumerate(LANGS)}
    for rnd in (1, 2):
        links = [(a, b) for a, b in PAIRS if (order[a] < order[b]) == (rnd == 1)]
        marks = {lang: d.mark() for lang, d in net.items()}
        _connect_all(net, links, res)
        deadline = Deadline(PHASE_TIMEOUT)
        for a, b in links:
            r = res[(a, b)]
            if "error" in r:
                continue
            for side, name, peer in ((a, "outbound_node_connected", b), (b, "inbound_node_connected", a)):
                try:
                    net[side].wait_event(name, peer, deadline.left(), marks[side])
                except DriverError as e:
                    r.setdefault("connect_events_missing", []).append(str(e))
        peers = dict(zip(net, in_parallel([lambda d=d: d.peers() for d in net.values()])))
        for a, b in links:
            res[(a, b)]["peers"] = (peers[a], peers[b])
        _links(net, links, res)
        _exchange(net, links, res, marks, SMALL)
        _disconnect_all(net, links, res)
    return res


@pytest.fixture(scope="module")
def ring(net):
    """The matrix phase over the ring; the result of every link."""
    res = {link: {} for link in RING}
    marks = {lang: d.mark() for lang, d in net.items()}
    _connect_all(net, RING, res)
    deadline = Deadline(PHASE_TIMEOUT)
    for a, b in RING:
        if "error" not in res[(a, b)]:
            try:
                net[b].wait_event("inbound_node_connected", a, deadline.left(), marks[b])
            except DriverError as e:
                res[(a, b)]["error"] = e

    def matrix(s, r):
        return [(label, payload, codec) for codec in COMPRESSIONS for label, payload in FULL]

    _exchange(net, RING, res, marks, matrix)
    _disconnect_all(net, RING, res)
    return res


# ---- 1. pairs ---------------------------------------------------------------------

def _pair_error(r):
    if "error" in r:
        pytest.fail("connect failed: %s" % r["error"])


@pytest.mark.parametrize("a,b", PAIRS, ids=["%s-dials-%s" % p for p in PAIRS])
def test_connect(pairs, a, b):
    r = pairs[(a, b)]
    _pair_error(r)
    assert r["connect"] == b, "connect replied with peer id %r" % r["connect"]
    assert not r.get("connect_events_missing"), "\n".join(r["connect_events_missing"])
    peers_a, peers_b = r["peers"]
    assert b in peers_a and a in peers_b, "peers: %s has %s, %s has %s" % (a, peers_a, b, peers_b)


@pytest.mark.parametrize("a,b", PAIRS, ids=["%s-dials-%s" % p for p in PAIRS])
def test_link(pairs, keys, a, b):
    """Native and encrypted with the peer's own key between p2pnode drivers;
    plaintext, as p2pnetwork speaks, with the p2pnetwork node."""
    r = pairs[(a, b)]
    _pair_error(r)
    for side, peer in ((a, b), (b, a)):
        if side == "p2pnetwork":
            continue
        reply = r["link"][side]
        unsupported(side, reply, "peer command")
        if "p2pnetwork" in (a, b):
            assert reply == "OK peer %s plaintext -" % peer, "%s about %s: %s" % (side, peer, reply)
            continue
        unsupported(peer, keys[peer], "key command")
        assert keys[peer].startswith("OK key ") and len(keys[peer]) == len("OK key ") + 64, keys[peer]
        want = "OK peer %s encrypted %s" % (peer, keys[peer].split(" ")[2])
        assert reply == want, "%s about %s: %s, but %s reports %s" % (side, peer, reply, peer, keys[peer])


def _compare(sent, received, what):
    exp = [e for _, _, e in sent]
    if received == exp:
        return
    lines = ["%s: %d sent, %d received" % (what, len(exp), len(received))]
    for i in range(max(len(exp), len(received))):
        label = "%s/%s" % sent[i][:2] if i < len(sent) else "?"
        e = exp[i] if i < len(exp) else None
        g = received[i] if i < len(received) else None
        if e != g:
            lines.append("  #%d %s: expected %s, got %s" % (i, label, _show(e), _show(g)))
    pytest.fail("\n".join(lines))


def _show(m):
    if m is None:
        return "nothing"
    kind, codec, data = m
    return "(%s, %s, %s)" % (kind, codec, data[:40].hex() + ("..." if len(data) > 40 else ""))


@pytest.mark.parametrize("a,b", PAIRS, ids=["%s-dials-%s" % p for p in PAIRS])
def test_messages(pairs, a, b):
    """Over a's connection to b: SMALL from a to b and from b to a."""
    r = pairs[(a, b)]
    _pair_error(r)
    assert not r.get("send_errors"), r["send_errors"]
    for s, t in ((a, b), (b, a)):
        _compare(r["sent"][(s, t)], r["got"][(s, t)], "%s -> %s" % (s, t))


@pytest.mark.parametrize("a,b", PAIRS, ids=["%s-dials-%s" % p for p in PAIRS])
def test_disconnect(pairs, a, b):
    """a drops b: a reports node_disconnect_with_outbound_node and
    outbound_node_disconnected, b reports inbound_node_disconnected."""
    r = pairs[(a, b)]
    _pair_error(r)
    assert r["disconnect"] == "OK disconnect", r["disconnect"]
    assert r["events_a"] == [("node_disconnect_with_outbound_node", b), ("outbound_node_disconnected", b)], \
        "events at %s: %s" % (a, r["events_a"])
    assert r["events_b"] == [("inbound_node_disconnected", a)], "events at %s: %s (%s probes)" % (
        b, r["events_b"], r.get("probes", 0))


# ---- 2. the payload x compression matrix over the ring -----------------------------

MATRIX = [(s, r, c) for s, r in EDGES for c in COMPRESSIONS]


@pytest.mark.parametrize("s,r,codec", MATRIX, ids=["%s-to-%s-%s" % m for m in MATRIX])
def test_matrix(ring, s, r, codec):
    link = (s, r) if (s, r) in ring else (r, s)
    res = ring[link]
    _pair_error(res)
    assert not res.get("send_errors"), res["send_errors"]
    sent, received = res["sent"][(s, r)], res["got"][(s, r)]
    if len(sent) != len(received):
        _compare(sent, received, "%s -> %s (all codecs)" % (s, r))
    picked = [i for i, m in enumerate(sent) if m[1] == codec]
    assert picked, "nothing sent with %s" % codec
    _compare([sent[i] for i in picked], [received[i] for i in picked], "%s -> %s, %s" % (s, r, codec))


# ---- 3. reconnect -------------------------------------------------------------------

@pytest.mark.parametrize("dialler,lang", RECONNECT, ids=["%s-redials-%s" % p for p in RECONNECT])
def test_reconnect(net, dialler, lang):
    d = net[dialler]
    name = "%s-restarted" % lang
    mark = d.mark()
    first = Driver(lang, name)
    second = None
    port = first.port
    try:
        if lang != "p2pnetwork" and not os.path.exists(first.identity):
            pytest.skip("the %s driver does not keep its identity in P2P_IDENTITY yet "
                        "(tests/crosslang/README.md): restarted, it would have another key" % lang)
        assert d.connect(port, reconnect=True) == name
        first.wait_event("inbound_node_connected", dialler)
        assert d.send(name, b"before") == "OK send"
        first.wait_event("node_message", dialler)

        reply, rc = first.stop()
        assert (reply, rc) == ("OK stop", 0)
        lost = d.wait_event("outbound_node_disconnected", name, since=mark)
        retry = d.wait_event("node_reconnection_error", "127.0.0.1:%d" % port, since=lost.seq)
        assert int(retry.kind) >= 1, retry.line  # trials

        second = Driver(lang, name, port=port)
        again = d.wait_event("outbound_node_connected", name, timeout=30, since=retry.seq)
        second.wait_event("inbound_node_connected", dialler)
        assert d.send(name, b"after") == "OK send"
        assert second.send(dialler, b"back") == "OK send"
        msg = second.wait_event("node_message", dialler)
        assert msg.data == b"after"
        back = d.wait_event("node_message", name, since=again.seq)
        assert back.data == b"back"
    finally:
        try:
            d.request("disconnect %s" % name)  # also ends the reconnecting (ERR if gone)
        except DriverError:
            pass
        for p in (first, second):
            if p is not None and p.proc.poll() is None:
                p.stop()
            if p is not None:
                p.kill()


# ---- 4. stop ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stopped(net):
    marks = {lang: d.mark() for lang, d in net.items()}
    results = in_parallel([lambda d=d: d.stop() for d in net.values()])
    return {lang: (res, net[lang].since(marks[lang])) for lang, res in zip(net, results)}


@pytest.mark.parametrize("lang", LANGS)
def test_stop(stopped, lang):
    (reply, rc), events = stopped[lang]
    assert reply == "OK stop" and rc == 0, (reply, rc)
    assert "node_request_to_stop" in [e.name for e in events]


def test_p2pnetwork_saw_only_its_events(net, stopped):
    """Over every phase, the p2pnetwork 1.2 node reported only p2pnetwork's
    events: the native protocol's negotiation never showed itself to it."""
    names = {e.name for e in net["p2pnetwork"].since()}
    assert names <= P2PNETWORK_EVENTS, sorted(names - P2PNETWORK_EVENTS)
    assert {"inbound_node_connected", "outbound_node_connected", "node_message"} <= names, sorted(names)
