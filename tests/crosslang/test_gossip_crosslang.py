"""Cross-language gossip (issue 21): a network of Go, C, C++, C# and Python
(p2pnode) drivers, each in its own process, finds itself from one bootstrap
and delivers topic publishes across languages exactly once; a p2pnetwork 1.2
node attached to one of them takes part only as a plain direct peer.

What runs, and why:

1. Join - every p2pnode driver subscribes to TOPIC, the others dial the
   bootstrap (the Go driver) and every one runs "discover 2". The network
   must converge without more dials from the test: every node reaches
   TARGET peers among the gossip nodes and the graph is connected (from the
   connected/disconnected events), every node's address book ("known")
   lists others.
   Before publishing, the other end of every link reports it as well (a
   dial returns before the listening side's gossip knows the link: a
   publish in between would miss the new node). The p2pnetwork node dials
   the C driver only.
   Tests: test_discovery[lang] (5), test_connected (1).
2. Publish - each language publishes one text, one JSON and one non-UTF-8
   message. Every other subscriber must report each exactly once, with the
   topic, the publisher as origin and the data (the Python driver: the
   value as p2pnetwork presents a message); the publisher never gets its
   own. The test waits until every publish is in everywhere (a publish
   that a link announced lazily comes about a second later, by GRAFT, and
   may overtake none), then a fence: each language publishes a last message
   and the test waits for all of them everywhere, so a duplicate of a
   first-round message still in flight has had the time a whole round
   takes. Tests: test_publish[lang] (5: each publisher's messages at every
   receiver), test_never_origin[lang] (5).
3. The p2pnetwork node - it reports only p2pnetwork's event methods, no
   node_message (no gossip or discovery frame reached it), and is still a
   working direct peer: a message from the C driver reaches it, one from it
   reaches the C driver. Tests: test_p2pnetwork_untouched, test_p2pnetwork_direct.

A language whose driver does not know the gossip commands yet (its reply is
"unknown command") stays out of the network, and each of its tests skips
with that reason; the suite's summary counts the skips. With every driver
merged all five languages run.
"""
import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import DriverError, expected, in_parallel, start_all  # noqa: E402

GOSSIP_LANGS = ("go", "c", "cpp", "csharp", "python")
BOOTSTRAP = "go"
ATTACHED = "c"  # the p2pnetwork node's one peer
TOPIC = "crosslang-chat"
TARGET = 2
TIMEOUT = 60.0
P2PNETWORK_EVENTS = {"outbound_node_connected", "inbound_node_connected", "outbound_node_disconnected",
                     "inbound_node_disconnected", "node_message", "node_disconnect_with_outbound_node",
                     "node_request_to_stop", "node_reconnection_error"}


def name(lang):
    return "gossip-" + lang


def publishes(lang):
    """(label, payload) each language publishes in round 2."""
    return [
        ("text", ("hello from %s, over a topic" % lang).encode()),
        ("json", json.dumps({"from": lang, "topic": TOPIC, "n": [1, 2, 3]}).encode()),
        ("bytes", b"\xff\xfe " + lang.encode() + b" \x80\x00"),
    ]


def fence(lang):
    return ("last word from %s" % lang).encode()


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return max(0.1, self.end - time.monotonic())


def linked(evs, peers):
    """The peers among `peers` that the events leave connected. Two nodes that
    dial each other at once have two links a while (one inbound, one
    outbound), and one of them closes: links count by direction."""
    now = set()
    for e in evs:
        direction, _, what = e.name.partition("_node_")
        if e.peer in peers and what == "connected":
            now.add((e.peer, direction))
        elif e.peer in peers and what == "disconnected":
            now.discard((e.peer, direction))
    return {peer for peer, _ in now}


def _next_event(d, since, timeout):
    """Wait (at most timeout) for the driver's next event."""
    try:
        d.wait(lambda evs: len(evs) > 0, timeout, since)
    except DriverError:
        pass


def topic_got(d, since=0):
    """(origin, kind, data) of each topic message on TOPIC a driver reported."""
    return [(e.origin, e.kind, e.data) for e in d.topic_messages(since) if e.topic == TOPIC]


@pytest.fixture(scope="module")
def gossip():
    """Rounds 1 and 2; what every node reported."""
    langs = GOSSIP_LANGS + ("p2pnetwork",)
    nodes = start_all(langs, names={lang: name(lang) for lang in langs})
    res = {"missing": {}}
    try:
        # Who knows the commands: a driver that does not stays out.
        replies = dict(zip(GOSSIP_LANGS, in_parallel(
            [lambda lang=lang: nodes[lang].request("subscribe %s" % TOPIC) for lang in GOSSIP_LANGS])))
        for lang, reply in replies.items():
            if reply.endswith(" unknown command"):
                res["missing"][lang] = reply
            else:
                assert reply == "OK subscribe", "%s: %s" % (lang, reply)
        live = [lang for lang in GOSSIP_LANGS if lang not in res["missing"]]
        assert BOOTSTRAP in live and ATTACHED in live, res["missing"]
        res["live"] = live
        members = {name(lang) for lang in live}

        # 1. join: one dial each to the bootstrap, then discovery does the rest.
        for lang in live:
            if lang != BOOTSTRAP:
                assert nodes[lang].connect(nodes[BOOTSTRAP].port) == name(BOOTSTRAP)
        assert nodes["p2pnetwork"].connect(nodes[ATTACHED].port) == name(ATTACHED)
        for lang in live:
            assert nodes[lang].ok("discover %d" % TARGET) == "OK discover"
        deadline = Deadline(TIMEOUT)
        want = min(TARGET, len(live) - 1)

        def converge(lang):
            others = members - {name(lang)}
            try:
                nodes[lang].wait(lambda evs: len(linked(evs, others)) >= want, deadline.left())
            except DriverError as e:
                res.setdefault("join_errors", {})[lang] = str(e)

        in_parallel([lambda lang=lang: converge(lang) for lang in live])

        # A dial returns before the listener's side of the link has joined its
        # gossip (a publish in that window misses the new node), and two nodes
        # that dial each other at once close one of the two links: publish once
        # every node has its links and the other end of each reports it too.
        by_name = {name(lang): lang for lang in live}

        def snapshot():
            return {lang: linked(nodes[lang].since(), members - {name(lang)}) for lang in live}

        def settled(snap):
            return all(len(snap[lang]) >= want and all(name(lang) in snap[by_name[o]] for o in snap[lang])
                       for lang in live)

        snap = snapshot()
        while not settled(snap) and time.monotonic() < deadline.end:
            marks = {lang: nodes[lang].mark() for lang in live}
            in_parallel([lambda lang=lang: _next_event(nodes[lang], marks[lang], 0.5) for lang in live])
            snap = snapshot()
        if not settled(snap):
            res.setdefault("join_errors", {}).update({lang: "links did not settle: %s" % snap for lang in live})
        res["peers"] = snap
        res["known"] = dict(zip(live, in_parallel([lambda lang=lang: nodes[lang].ok("known") for lang in live])))

        # 2. publish; once every publish is in everywhere, the fence; then count.
        marks = {lang: d.mark() for lang, d in nodes.items()}
        for lang in live:
            for label, payload in publishes(lang):
                reply = nodes[lang].request("publish %s %s" % (TOPIC, payload.hex()))
                assert reply == "OK publish", "%s %s: %s" % (lang, label, reply)
        deadline = Deadline(TIMEOUT)

        def settle(lang, sent):
            want = {(name(o), shown(lang, p)) for o in live if o != lang for p in sent(o)}
            try:
                nodes[lang].wait(lambda evs: want <= {(e.origin, (e.kind, e.data)) for e in evs
                                                      if e.name == "node_topic_message"},
                                 deadline.left(), marks[lang])
            except DriverError as e:
                res.setdefault("settle_errors", {})[lang] = str(e)

        in_parallel([lambda lang=lang: settle(lang, lambda o: [p for _, p in publishes(o)]) for lang in live])
        for lang in live:
            assert nodes[lang].request("publish %s %s" % (TOPIC, fence(lang).hex())) == "OK publish"
        in_parallel([lambda lang=lang: settle(lang, lambda o: [fence(o)]) for lang in live])
        res["got"] = {lang: topic_got(nodes[lang], marks[lang]) for lang in live}

        # 3. the p2pnetwork node as a direct peer of the C driver, still.
        ref, att = nodes["p2pnetwork"], nodes[ATTACHED]
        res["ref_events_before_direct"] = ref.since()
        mark_ref, mark_att = ref.mark(), att.mark()
        res["direct"] = (att.send(name("p2pnetwork"), b"direct from c"),
                         ref.send(name(ATTACHED), b"direct from p2pnetwork"))
        for d, peer, mark in ((ref, name(ATTACHED), mark_ref), (att, name("p2pnetwork"), mark_att)):
            try:
                d.wait_event("node_message", peer, 20, mark)
            except DriverError:
                pass
        res["direct_got"] = ([e.data for e in ref.messages(name(ATTACHED), mark_ref)],
                             [e.data for e in att.messages(name("p2pnetwork"), mark_att)])
        yield res
    finally:
        in_parallel([lambda d=d: d.stop(timeout=15) for d in nodes.values() if d.proc.poll() is None])
        for d in nodes.values():
            d.kill()


def need(gossip, lang):
    if lang in gossip["missing"]:
        pytest.skip("the %s driver has no gossip commands yet (tests/crosslang/README.md): %r"
                    % (lang, gossip["missing"][lang]))


# ---- 1. join --------------------------------------------------------------------

@pytest.mark.parametrize("lang", GOSSIP_LANGS)
def test_discovery(gossip, lang):
    """From one dial to the bootstrap, discovery gives every node TARGET peers
    and an address book of others."""
    need(gossip, lang)
    assert lang not in gossip.get("join_errors", {}), gossip["join_errors"][lang]
    members = {name(o) for o in gossip["live"]} - {name(lang)}
    assert len(gossip["peers"][lang] & members) >= min(TARGET, len(members)), gossip["peers"][lang]
    known = gossip["known"][lang].split(" ", 2)[2]
    assert known != "-", "%s knows no address" % lang
    entries = dict(k.split("@", 1) for k in known.split(","))
    assert set(entries) & members, entries
    assert name(lang) not in entries, "%s lists itself: %s" % (lang, known)
    assert name("p2pnetwork") not in entries, "a p2pnetwork peer in the address book: %s" % known


def test_connected(gossip):
    """The gossip nodes' links make one connected graph."""
    live = {name(lang) for lang in gossip["live"]}
    graph = {name(lang): set(ps) & live for lang, ps in gossip["peers"].items()}
    seen, todo = set(), [name(BOOTSTRAP)]
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(graph[n] - seen)
    assert seen == live, "not reached from %s: %s; links %s" % (BOOTSTRAP, sorted(live - seen), graph)


# ---- 2. publish -----------------------------------------------------------------

def shown(receiver, payload):
    """(kind, bytes) the receiver's driver reports for a published payload."""
    kind, _, data = expected(receiver, payload, "none")
    return kind, data


@pytest.mark.parametrize("lang", GOSSIP_LANGS)
def test_publish(gossip, lang):
    """Each of lang's publishes reaches every other subscriber exactly once,
    with the topic and lang as its origin."""
    need(gossip, lang)
    problems = []
    for r in gossip["live"]:
        if r == lang:
            continue
        if r in gossip.get("settle_errors", {}):
            problems.append("%s did not get every publish: %s" % (r, gossip["settle_errors"][r][:400]))
        got = [(k, d) for o, k, d in gossip["got"][r] if o == name(lang)]
        for label, payload in publishes(lang) + [("fence", fence(lang))]:
            n = got.count(shown(r, payload))
            if n != 1:
                problems.append("%s got %s's %s %d times" % (r, lang, label, n))
        if len(got) != len(publishes(lang)) + 1:
            problems.append("%s got %d messages from %s: %s" % (r, len(got), lang, got))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", GOSSIP_LANGS)
def test_never_origin(gossip, lang):
    """A publisher never gets its own publishes back."""
    need(gossip, lang)
    own = [m for m in gossip["got"][lang] if m[0] == name(lang)]
    assert not own, own


# ---- 3. the p2pnetwork node ----------------------------------------------------

def test_p2pnetwork_untouched(gossip):
    """While the network discovered and gossiped, the p2pnetwork node attached
    to the C driver reported one connection and nothing else."""
    evs = gossip["ref_events_before_direct"]
    names = [e.name for e in evs]
    assert set(names) <= P2PNETWORK_EVENTS, names
    assert [(e.name, e.peer) for e in evs] == [("outbound_node_connected", name(ATTACHED))], \
        [e.line[:120] for e in evs]


def test_p2pnetwork_direct(gossip):
    """The C driver and the p2pnetwork node still message each other directly."""
    assert gossip["direct"] == ("OK send", "OK send"), gossip["direct"]
    assert gossip["direct_got"] == ([b"direct from c"], [b"direct from p2pnetwork"]), gossip["direct_got"]
