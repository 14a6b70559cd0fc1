"""Events: both styles, calls from event methods, exceptions, reconnection, stopping."""

import threading
import time

import pytest

from conftest import HOST, Recorder, connect, wait_for
from p2pnode import Node


class CallbackLog:
    def __init__(self):
        self.calls = []
        self.lock = threading.Lock()

    def __call__(self, event, main_node, connected_node, data):
        with self.lock:
            self.calls.append((event, main_node, connected_node, data))

    def events(self):
        with self.lock:
            return [c[0] for c in self.calls]

    def of(self, name):
        with self.lock:
            return [c for c in self.calls if c[0] == name]


def test_callback_style_receives_the_reference_events(nodes):
    la, lb = CallbackLog(), CallbackLog()
    a = nodes(Node, HOST, 0, "A", la)
    b = nodes(Node, HOST, 0, lb)            # the older form: callback third
    out, inb = connect(a, b)
    a.send_to_nodes({"hi": 1})
    wait_for(lambda: lb.of("node_message"))
    a.disconnect_with_node(out)
    wait_for(lambda: la.of("outbound_node_disconnected") and lb.of("inbound_node_disconnected"))
    a.stop()
    a.join(10)
    assert la.events() == ["outbound_node_connected", "node_disconnect_with_outbound_node",
                           "outbound_node_disconnected", "node_request_to_stop"]
    assert la.calls[0] == ("outbound_node_connected", a, out, {})
    assert la.calls[1] == ("node_disconnect_with_outbound_node", a, out, {})
    assert la.calls[2] == ("outbound_node_disconnected", a, out, {})
    assert la.calls[3] == ("node_request_to_stop", a, {}, {})
    assert lb.calls[0] == ("inbound_node_connected", b, inb, {})
    assert lb.of("node_message")[0] == ("node_message", b, inb, {"hi": 1})
    assert lb.of("inbound_node_disconnected")[0] == ("inbound_node_disconnected", b, inb, {})


def test_subclass_style_full_sequence(nodes):
    a, b = nodes(), nodes()
    out, inb = connect(a, b)
    a.send_to_nodes("m1")
    wait_for(lambda: b.messages() == ["m1"])
    b.stop()
    b.join(10)
    # join waited for the last events of b
    assert b.names() == ["inbound_node_connected", "node_message", "node_request_to_stop",
                         "inbound_node_disconnected"]
    wait_for(lambda: a.of("outbound_node_disconnected"))
    assert a.names() == ["outbound_node_connected", "outbound_node_disconnected"]
    assert a.all_nodes == []


def test_event_methods_may_call_the_node(nodes):
    class Echo(Recorder):
        def node_message(self, node, data):
            super().node_message(node, data)
            if data == "connect":
                self.connect_with_node(HOST, third.port)
            else:
                node.send({"echo": data})
                self.send_to_node(node, "again")

    third = nodes()
    a, b = nodes(), nodes(Echo)
    out, _ = connect(a, b)
    a.send_to_nodes("ping")
    wait_for(lambda: a.messages() == [{"echo": "ping"}, "again"])
    a.send_to_nodes("connect")
    wait_for(lambda: len(b.nodes_outbound) == 1 and third.of("inbound_node_connected"))


def test_disconnect_from_an_event_method(nodes):
    class Leaver(Recorder):
        def outbound_node_connected(self, node):
            super().outbound_node_connected(node)
            started = time.monotonic()
            self.disconnect_with_node(node)
            self.took = time.monotonic() - started
            self._rec("disconnect returned")

    a, b = nodes(Leaver), nodes()
    assert a.connect_with_node(HOST, b.port)
    wait_for(lambda: a.of("outbound_node_disconnected"), what="disconnected")
    # On the node's thread disconnect returns at once; its event comes next.
    assert a.took < 1.0
    assert a.names() == ["outbound_node_connected", "disconnect returned",
                         "node_disconnect_with_outbound_node", "outbound_node_disconnected"]
    assert a.is_alive() and a.all_nodes == []
    wait_for(lambda: b.of("inbound_node_disconnected"))


def test_exception_in_event_method_is_reported_and_the_node_goes_on(nodes, capsys):
    class Faulty(Recorder):
        def node_message(self, node, data):
            super().node_message(node, data)
            if data == "boom":
                raise RuntimeError("event method failed on purpose")

        def inbound_node_connected(self, node):
            super().inbound_node_connected(node)
            raise ValueError("connected failed on purpose")

    a, b = nodes(), nodes(Faulty)
    connect(a, b)
    a.send_to_nodes("boom")
    a.send_to_nodes("after")
    wait_for(lambda: b.messages() == ["boom", "after"])
    assert b.is_alive()
    err = capsys.readouterr().err
    assert "RuntimeError: event method failed on purpose" in err
    assert "ValueError: connected failed on purpose" in err
    assert "Traceback" in err and "node_message" in err


def test_exception_in_callback_is_reported(nodes, capsys):
    seen = []

    def callback(event, main_node, connected_node, data):
        seen.append(event)
        raise KeyError("callback failed on purpose")

    a, b = nodes(), nodes(Node, HOST, 0, callback=callback)
    connect(a, b)
    a.send_to_nodes("x")
    wait_for(lambda: "node_message" in seen)
    assert b.is_alive()
    assert "callback failed on purpose" in capsys.readouterr().err


# ---- reconnection ------------------------------------------------------------

def quick_reconnecting_node(nodes, cls=Recorder, **kwargs):
    a = nodes(cls, HOST, 0, start=False, **kwargs)
    a.set_limit("reconnect_interval_ms", 50)
    a.start()
    return a


def connect_and_lose(nodes, a, cls=Recorder, id=None):
    """a connects, with reconnect, to a new node that then stops; returns that node's port."""
    b = nodes(cls, HOST, 0, id)
    assert a.connect_with_node(HOST, b.port, reconnect=True)
    wait_for(lambda: a.nodes_outbound)
    b.stop()
    b.join(10)
    return b.port


def test_reconnection_trials_are_counted_and_false_stops(nodes, capfd):
    a = quick_reconnecting_node(nodes)
    a.debug = True
    a.reconnect_answer = lambda host, port, trials: trials < 3
    port = connect_and_lose(nodes, a)
    wait_for(lambda: len(a.of("node_reconnection_error")) >= 3, what="three trials")
    errs = a.of("node_reconnection_error")
    assert errs[:3] == [("node_reconnection_error", HOST, port, t) for t in (1, 2, 3)]
    wait_for(lambda: "giving up" in capfd.readouterr().err, what="the library to give up")
    time.sleep(0.3)  # a few reconnect intervals: no further question comes
    assert len(a.of("node_reconnection_error")) == 3


def test_reconnection_true_reconnects_when_the_peer_is_back(nodes):
    a = quick_reconnecting_node(nodes)
    port = connect_and_lose(nodes, a, id="first")
    wait_for(lambda: len(a.of("node_reconnection_error")) >= 2, what="two trials")
    b2 = nodes(Recorder, HOST, port, "second")
    # (the peer is listed before its connected event has reached the node's thread)
    wait_for(lambda: len(a.of("outbound_node_connected")) == 2, what="reconnection")
    connected = [e[1].id for e in a.of("outbound_node_connected")]
    assert connected == ["first", "second"]
    trials = [e[3] for e in a.of("node_reconnection_error")]
    assert trials == list(range(1, len(trials) + 1))
    # Connected again: the trials start over when it is lost again, once a
    # reconnect check has seen the peer connected (as in the reference).
    time.sleep(0.3)  # a few reconnect intervals
    before = len(a.of("node_reconnection_error"))
    b2.stop()
    b2.join(10)
    wait_for(lambda: len(a.of("node_reconnection_error")) > before)
    assert a.of("node_reconnection_error")[before][3] == 1


def test_reconnection_default_answer_and_exception(nodes, capsys):
    a = quick_reconnecting_node(nodes)

    def broken(host, port, trials):
        raise RuntimeError("answer failed on purpose")

    a.reconnect_answer = broken
    port = connect_and_lose(nodes, a)
    wait_for(lambda: len(a.of("node_reconnection_error")) >= 2)
    assert "answer failed on purpose" in capsys.readouterr().err
    nodes(Recorder, HOST, port, "back")   # the failing method counts as "yes"
    wait_for(lambda: [c for c in a.nodes_outbound if c.id == "back"])


def test_reconnection_with_callback_style_keeps_trying(nodes):
    log = CallbackLog()
    a = quick_reconnecting_node(nodes, Node, callback=log)
    port = connect_and_lose(nodes, a, Node)
    wait_for(lambda: log.of("outbound_node_disconnected"))
    nodes(Node, HOST, port, "back")
    wait_for(lambda: [c for c in a.nodes_outbound if c.id == "back"])
    assert "node_reconnection_error" not in log.events()  # as the reference: no callback


def test_disconnect_with_node_ends_reconnection(nodes):
    a = quick_reconnecting_node(nodes)
    b = nodes()
    out, _ = connect(a, b)
    assert a.connect_with_node(HOST, b.port, reconnect=True)  # already connected: True
    c = nodes()
    ac, _ = connect(a, c)
    a2, _ = a.nodes_outbound[0], None
    a.disconnect_with_node(a2 if a2.id == b.id else ac)
    wait_for(lambda: a.of("outbound_node_disconnected"))
    time.sleep(0.3)  # a few reconnect intervals
    assert a.of("node_reconnection_error") == []


# ---- stopping ----------------------------------------------------------------

def test_stop_under_traffic(nodes):
    a, b, c = nodes(), nodes(), nodes()
    connect(a, b)
    connect(c, b)
    errors = []
    sent = [0]
    go, enough = threading.Event(), threading.Event()

    def blast(node):
        go.wait()
        try:
            for i in range(20000):
                if enough.is_set():  # b and a have stopped: the rest would only burn CPU
                    break
                node.send_to_nodes({"i": i}, compression="zlib" if i % 2 else "none")
                sent[0] += 1
        except Exception as e:  # pragma: no cover - the failure is reported below
            errors.append(e)

    threads = [threading.Thread(target=blast, args=(n,)) for n in (a, c)]
    for t in threads:
        t.start()
    go.set()
    wait_for(lambda: len(b.messages()) > 100, what="traffic")
    b.stop()
    b.join(10)
    assert not b.is_alive()
    a.stop()  # while a's sender goes on
    enough.set()
    for t in threads:
        t.join(60)
    assert errors == []
    a.join(10)
    c.stop()
    c.join(10)
    assert not a.is_alive() and not c.is_alive()
    # every message b got was whole
    assert all(isinstance(m, dict) and "i" in m for m in b.messages())
    assert b.names()[-1] == "inbound_node_disconnected"


def test_many_nodes_stop_together(nodes):
    hub = nodes()
    spokes = [nodes() for _ in range(8)]
    for s in spokes:
        assert s.connect_with_node(HOST, hub.port)
    wait_for(lambda: len(hub.nodes_inbound) == 8)
    hub.send_to_nodes("all")
    wait_for(lambda: all(s.messages() == ["all"] for s in spokes))
    threads = [threading.Thread(target=n.stop) for n in spokes + [hub]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    for n in spokes + [hub]:
        n.join(10)
        assert not n.is_alive()


# ---- poll mode: the events the library waits on ------------------------------------
# REQUEST_TO_STOP and DISCONNECT_WITH_OUTBOUND hold the node until the
# node's thread has handled them; stop() and disconnect_with_node() called
# on that thread (from an event method) return at once.

class Goodbye(Recorder):
    """Sends a goodbye to its peers from node_request_to_stop, and notes what it saw."""

    def node_request_to_stop(self):
        super().node_request_to_stop()
        self.peers_at_stop = len(self.all_nodes)
        time.sleep(0.2)  # the library waits for this method, however slow
        self.send_to_nodes("goodbye")
        self._rec("goodbye sent")


def test_goodbye_from_request_to_stop_reaches_the_peers(nodes):
    a, b, c = nodes(Goodbye), nodes(), nodes()
    connect(a, b)
    connect(c, a)
    # The peer lists are filled before the connected events reach the handler
    # (as in p2pnetwork); stop() raises node_request_to_stop on this thread.
    wait_for(lambda: a.of("outbound_node_connected") and a.of("inbound_node_connected"))
    a.stop()
    # stop() returned after node_request_to_stop had run to its end, with the peers still there.
    assert "goodbye sent" in a.names() and a.peers_at_stop == 2
    a.join(10)
    names = a.names()
    assert sorted(names[:2]) == ["inbound_node_connected", "outbound_node_connected"]
    assert names[2:4] == ["node_request_to_stop", "goodbye sent"]
    assert sorted(names[4:]) == ["inbound_node_disconnected", "outbound_node_disconnected"]
    wait_for(lambda: b.of("inbound_node_disconnected") and c.of("outbound_node_disconnected"))
    assert b.messages() == ["goodbye"] and c.messages() == ["goodbye"]
    assert b.names().index("node_message") < b.names().index("inbound_node_disconnected")
    assert c.names().index("node_message") < c.names().index("outbound_node_disconnected")


def test_goodbye_from_request_to_stop_with_a_callback(nodes):
    def callback(event, main_node, connected_node, data):
        if event == "node_request_to_stop":
            main_node.send_to_nodes({"bye": main_node.id})

    a, b = nodes(Node, HOST, 0, "A", callback), nodes()
    connect(a, b)
    a.stop()
    a.join(10)
    wait_for(lambda: b.of("inbound_node_disconnected"))
    assert b.messages() == [{"bye": "A"}]


def test_goodbye_when_stopped_from_an_event_method(nodes):
    class QuitOnMessage(Goodbye):
        def node_message(self, node, data):
            super().node_message(node, data)
            if data == "quit":
                started = time.monotonic()
                self.stop()
                self.stop_took = time.monotonic() - started
                self._rec("stop returned")

    a, b = nodes(), nodes(QuitOnMessage)
    connect(a, b)
    a.send_to_nodes("quit")
    wait_for(lambda: not b.is_alive(), what="b's thread to end")
    assert b.stop_took < 1.0 and b.peers_at_stop == 1
    # stop() raises node_request_to_stop itself, before it returns (as p2pnetwork's does)
    assert b.names()[1:] == ["node_message", "node_request_to_stop", "goodbye sent", "stop returned",
                             "inbound_node_disconnected"]
    wait_for(lambda: a.of("outbound_node_disconnected"))
    assert a.messages() == ["goodbye"]
    assert a.names() == ["outbound_node_connected", "node_message", "outbound_node_disconnected"]


def test_stop_from_an_event_method_returns_at_once(nodes):
    class StopOnConnect(Recorder):
        def inbound_node_connected(self, node):
            super().inbound_node_connected(node)
            started = time.monotonic()
            self.stop()
            self.stop_took = time.monotonic() - started
            self.alive_after_stop = self.is_alive()
            node.send("sent after stop() returned")

    a, b = nodes(), nodes(StopOnConnect)
    assert a.connect_with_node(HOST, b.port)
    b.join(10)
    assert not b.is_alive()
    assert b.stop_took < 1.0 and b.alive_after_stop
    assert b.names() == ["inbound_node_connected", "node_request_to_stop", "inbound_node_disconnected"]
    wait_for(lambda: a.of("outbound_node_disconnected"))
    assert a.messages() == ["sent after stop() returned"]


@pytest.mark.parametrize("how", ["disconnect_with_node", "NodeConnection.stop"])
def test_disconnect_from_another_thread_returns_after_its_event_method(nodes, how):
    class Slow(Recorder):
        def node_disconnect_with_outbound_node(self, node):
            time.sleep(0.2)
            super().node_disconnect_with_outbound_node(node)

    a, b = nodes(Slow), nodes()
    out, _ = connect(a, b)
    wait_for(lambda: a.of("outbound_node_connected"))
    if how == "disconnect_with_node":
        a.disconnect_with_node(out)
    else:
        out.stop()
    assert a.names() == ["outbound_node_connected", "node_disconnect_with_outbound_node"]
    wait_for(lambda: a.of("outbound_node_disconnected") and b.of("inbound_node_disconnected"))
    out.join(10)
    assert not out.is_alive()
