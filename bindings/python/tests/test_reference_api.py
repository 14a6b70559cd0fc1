"""p2pnetwork 1.2's API name by name, its packet functions, stop()/join() and how
1.2 sees our closes: each checked against the installed p2pnetwork 1.2 itself."""

from __future__ import annotations

import base64
import contextlib
import inspect
import io
import socket
import threading
import types
import zlib

import pytest

from conftest import HOST, Nodes, Recorder, free_port, wait_for
from p2pnode.node import Node
from p2pnode.nodeconnection import NodeConnection

p2pnetwork_node = pytest.importorskip("p2pnetwork.node")
p2pnetwork_conn = pytest.importorskip("p2pnetwork.nodeconnection")
RefNode, RefConnection = p2pnetwork_node.Node, p2pnetwork_conn.NodeConnection

CODECS = ["zlib", "bzip2", "lzma"]


def _public(obj):
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def _reference_instances():
    """A p2pnetwork Node and NodeConnection (its Node binds a port: closed at once)."""
    with contextlib.redirect_stdout(io.StringIO()):  # its "Initialisation of the Node" line
        node = RefNode(HOST, 0)
    node.sock.close()
    sock = socket.socket()
    conn = RefConnection(node, sock, "peer", HOST, 1)
    sock.close()
    return node, conn


_REF_NODE, _REF_CONN = _reference_instances()
NODE_NAMES = _public(_REF_NODE)
CONN_NAMES = _public(_REF_CONN)


@pytest.fixture(scope="module")
def ours():
    made = Nodes()
    a, b = made(Node), made(Recorder)
    assert a.connect_with_node(HOST, b.port)
    conn = wait_for(lambda: a.nodes_outbound, what="the peer")[0]
    yield a, conn
    made.close()


@pytest.mark.parametrize("name", NODE_NAMES)
def test_node_has_the_reference_name(ours, name):
    node, _ = ours
    assert hasattr(node, name), "p2pnode's Node lacks p2pnetwork's %r" % name
    _same_kind(getattr(_REF_NODE, name), getattr(node, name), name)


@pytest.mark.parametrize("name", CONN_NAMES)
def test_nodeconnection_has_the_reference_name(ours, name):
    _, conn = ours
    assert hasattr(conn, name), "p2pnode's NodeConnection lacks p2pnetwork's %r" % name
    _same_kind(getattr(_REF_CONN, name), getattr(conn, name), name)


def _same_kind(ref, mine, name):
    """A method is a method with the reference's parameters; a value is not callable."""
    assert callable(ref) == callable(mine), name
    if inspect.ismethod(ref):
        ref_params = list(inspect.signature(ref).parameters)
        my_params = list(inspect.signature(mine).parameters)
        assert my_params[:len(ref_params)] == ref_params, name


def test_both_classes_are_threads_as_in_the_reference(ours):
    node, conn = ours
    assert isinstance(node, threading.Thread) and isinstance(conn, threading.Thread)
    assert conn.start() is None and conn.run() is None  # the library reads the connection
    assert conn.is_alive() and isinstance(conn.name, str)


# ---- generate_id, init_server, reconnect_to_nodes / reconnect_nodes --------------

def test_generate_id_is_the_reference_kind_of_id(nodes):
    n = nodes(Node)
    a, b = n.generate_id(), n.generate_id()
    assert a != b and len(a) == 128 and int(a, 16) >= 0
    assert len(n.id) == 128 and int(n.id, 16) >= 0  # the library's own, made alike
    assert len(RefNode.generate_id(n)) == 128


def test_a_subclass_generate_id_names_the_node(nodes):
    class Named(Node):
        def generate_id(self):
            return "made-by-%s-%d" % (self.host, self.port)

    n = nodes(Named, HOST, 0)
    assert n.id == "made-by-%s-0" % HOST
    assert nodes(Named, HOST, 0, "given").id == "given"


def test_a_subclass_init_server_is_called_once_bound(nodes):
    seen = []

    class Custom(Node):
        def init_server(self):
            seen.append((self.id, self.port))
            super().init_server()

    n = nodes(Custom, HOST, 0, "srv", start=False)
    assert seen == [("srv", n.port)] and n.port > 0 and n.sock is None


def test_reconnect_to_nodes_as_the_reference_lists_them(nodes):
    a, b, c = nodes(), nodes(), nodes()
    assert a.reconnect_to_nodes == []
    assert a.connect_with_node(HOST, b.port, reconnect=True)
    assert a.connect_with_node(HOST, c.port)
    assert a.reconnect_to_nodes == [{"host": HOST, "port": b.port, "tries": 0}]
    out = wait_for(lambda: [p for p in a.nodes_outbound if p.id == b.id], what="b")[0]
    a.reconnect_nodes()  # still connected: trials start over, nothing asked
    assert a.reconnect_to_nodes == [{"host": HOST, "port": b.port, "tries": 0, "trials": 0}]
    assert a.of("node_reconnection_error") == []
    a.disconnect_with_node(out)  # no longer reconnected (the library stops too)
    assert a.reconnect_to_nodes == []


def test_reconnect_nodes_asks_and_forgets_on_false(nodes):
    a = nodes()
    a.reconnect_answer = lambda host, port, trials: False
    gone = free_port()  # nobody listens there
    a.reconnect_to_nodes.append({"host": HOST, "port": gone, "tries": 0})
    a.reconnect_nodes()
    assert a.of("node_reconnection_error") == [("node_reconnection_error", HOST, gone, 1)]
    assert a.reconnect_to_nodes == []


def test_reconnect_nodes_connects_on_true(nodes):
    a, b = nodes(), nodes()
    a.reconnect_to_nodes.append({"host": HOST, "port": b.port, "tries": 0})
    a.reconnect_nodes()
    wait_for(lambda: [p for p in a.nodes_outbound if p.id == b.id], what="the reconnection")
    assert a.reconnect_to_nodes[0]["trials"] == 1


def test_a_false_answer_from_the_library_question_forgets_the_peer(nodes):
    a = nodes(start=False)
    a.set_limit("reconnect_interval_ms", 20)
    a.start()
    a.reconnect_answer = lambda host, port, trials: False
    b = nodes()
    assert a.connect_with_node(HOST, b.port, reconnect=True)
    wait_for(lambda: a.nodes_outbound, what="b")
    b.close()
    wait_for(lambda: a.of("node_reconnection_error"), what="the question")
    wait_for(lambda: a.reconnect_to_nodes == [], what="the entry to go")


# ---- compress, decompress, parse_packet -----------------------------------------------

PACKET_DATA = [b"hello", "h\u00e9llo".encode(), b'{"a": [1, 2]}', b"123", bytes(range(256)) * 40,
               b"x" * 100000]


@pytest.fixture
def conns(nodes):
    quiet = types.SimpleNamespace(debug_print=lambda message: None)
    sock = socket.socket()
    ref = RefConnection(quiet, sock, "ref", HOST, 1)
    sock.close()
    mine = NodeConnection(nodes(Node, start=False), None, "mine", HOST, 1)
    return ref, mine


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("data", PACKET_DATA, ids=range(len(PACKET_DATA)))
def test_compress_gives_the_reference_bytes_and_both_decompress_each_other(conns, codec, data):
    ref, mine = conns
    ours = mine.compress(data, codec)
    assert ours == ref.compress(data, codec)
    assert ref.decompress(ours) == data
    assert mine.decompress(ref.compress(data, codec)) == data


def test_unknown_compression_gives_none_as_the_reference(conns):
    ref, mine = conns
    assert mine.compress(b"x", "gzip") is None and ref.compress(b"x", "gzip") is None


PACKETS = [b"plain text", b'{"k": "v"}', b"42", b"\xff\xfe raw", "\u00e9".encode(),
           b"emb\x02edded", b"ends with stx\x02"]
PACKETS += [RefConnection.compress(types.SimpleNamespace(
    main_node=types.SimpleNamespace(debug_print=lambda m: None), id="r"), d, c) + b"\x02"
    for c in CODECS for d in (b"zipped text", b'{"zipped": true}', b"\x80\x81")]


@pytest.mark.parametrize("packet", PACKETS, ids=range(len(PACKETS)))
def test_parse_packet_as_the_reference(conns, packet):
    ref, mine = conns
    try:
        expected = ref.parse_packet(packet)
    except Exception as e:  # a "compressed" packet that is not base64: both raise
        with pytest.raises(type(e)):
            mine.parse_packet(packet)
        return
    got = mine.parse_packet(packet)
    assert type(got) is type(expected) and got == expected


def test_decompress_bounds_the_output(nodes, capsys):
    n = nodes(Node, start=False)
    n.set_limit("max_decompressed_size", 1000)
    mine = NodeConnection(n, None, "mine", HOST, 1)
    bomb = base64.b64encode(zlib.compress(b"\0" * 100000) + b"zlib")
    out = mine.decompress(bomb)
    assert len(out) < 1000  # the input, decoded from base64: not the 100000 bytes
    assert "over the limit" in capsys.readouterr().out


class Parsing(NodeConnection):
    def parse_packet(self, packet):
        self.main_node.packets.append(packet)
        return ("parsed", super().parse_packet(packet))


class ParsingNode(Recorder):
    def __init__(self, *args, **kwargs):
        self.packets = []
        super().__init__(*args, **kwargs)

    def create_new_connection(self, connection, id, host, port):
        return Parsing(self, connection, id, host, port)


SENT = [("text", "none"), ({"d": 1}, "none"), (b"\xff\x00raw", "none"), ("zipped", "zlib"),
        ({"z": [1]}, "bzip2"), (b"\x80xz", "lzma"), ("", "none"), (b"\xffa\x04b", "none")]


def test_an_overridden_parse_packet_gets_every_packet(nodes):
    a, b = nodes(), nodes(ParsingNode)
    assert a.connect_with_node(HOST, b.port)
    out = wait_for(lambda: a.nodes_outbound, what="b")[0]
    for data, codec in SENT:
        out.send(data, compression=codec)
    many = ["m%d" % i for i in range(500)]  # batched delivery goes through it too
    out.send_batch(many)
    wait_for(lambda: len(b.messages()) == len(SENT) + len(many), what="every message")
    expected = [RefConnection.parse_packet(_quiet_ref(), p) for p in b.packets]
    assert b.messages() == [("parsed", e) for e in expected]
    assert [e for e in expected[:len(SENT)]] == [d for d, _ in SENT]
    assert expected[len(SENT):] == many
    # raw frames come as they were; compressed ones end in COMPR_CHAR
    assert b.packets[0] == b"text" and b.packets[3].endswith(b"\x02")
    assert b.packets[6].endswith(b"\x02") and b.packets[7].endswith(b"\x02")  # not raw-framable


def test_parse_packet_gets_what_a_reference_node_sends(nodes):
    b = nodes(ParsingNode)
    ref = RefNode(HOST, free_port(), id="reference")
    ref.sock.settimeout(0.2)
    ref.start()
    try:
        assert ref.connect_with_node(HOST, b.port)
        wait_for(lambda: ref.nodes_outbound, what="the reference's peer")
        ref.send_to_nodes("from 1.2", compression="zlib")
        ref.send_to_nodes({"json": 1})
        wait_for(lambda: len(b.messages()) == 2, what="the messages")
        assert b.messages() == [("parsed", "from 1.2"), ("parsed", {"json": 1})]
        assert RefConnection.parse_packet(_quiet_ref(), b.packets[0]) == "from 1.2"
    finally:
        ref.stop()
        ref.join(30)


def _quiet_ref():
    return types.SimpleNamespace(COMPR_CHAR=b"\x02", id="r",
                                 main_node=types.SimpleNamespace(debug_print=lambda m: None),
                                 decompress=lambda c: RefConnection.decompress(_quiet_ref(), c))


def test_an_overridden_decompress_gets_compressed_packets(nodes):
    class Unzipping(NodeConnection):
        def decompress(self, compressed):
            self.main_node.packets.append(compressed)
            return super().decompress(compressed).upper()

    class UnzippingNode(ParsingNode):
        def create_new_connection(self, connection, id, host, port):
            return Unzipping(self, connection, id, host, port)

    a, b = nodes(), nodes(UnzippingNode)
    assert a.connect_with_node(HOST, b.port)
    out = wait_for(lambda: a.nodes_outbound, what="b")[0]
    out.send("plain")
    out.send("zipped", compression="zlib")
    wait_for(lambda: len(b.messages()) == 2, what="the messages")
    assert b.messages() == ["plain", "ZIPPED"]
    assert base64.b64decode(b.packets[0]).endswith(b"zlib")


def test_no_parse_packet_override_no_cost(nodes):
    a, b = nodes(), nodes()
    assert a.connect_with_node(HOST, b.port)
    inb = wait_for(lambda: b.nodes_inbound, what="a")[0]
    assert inb._p2p_parser is None and not inb._p2p_own_send


# ---- stop(), join(), is_alive() -------------------------------------------------------

def test_stop_asks_and_raises_request_to_stop_on_the_caller(nodes):
    seen = []

    class Watch(Recorder):
        def node_request_to_stop(self):
            seen.append((threading.current_thread(), len(self.all_nodes)))
            super().node_request_to_stop()

    a, b = nodes(Watch), nodes()
    assert a.connect_with_node(HOST, b.port)
    wait_for(lambda: b.nodes_inbound, what="a")
    a.stop()
    assert seen == [(threading.current_thread(), 1)]  # peers still connected then
    a.join(10)
    assert not a.is_alive()
    a.stop()
    assert a.names().count("node_request_to_stop") == 1  # once, though the library raises it too
    assert a.names()[-1] == "outbound_node_disconnected"


def test_nodes_stopped_in_a_row_ask_before_any_disconnect():
    # p2pnetwork's test_node_events: three nodes stopped in a row raise their
    # node_request_to_stop before any of them a disconnected event.
    log, lock = [], threading.Lock()

    def callback(event, main_node, connected_node, data):
        with lock:
            log.append((event, main_node.id))

    made = Nodes()
    try:
        n0, n1, n2 = (made(Node, HOST, 0, "n%d" % i, callback) for i in range(3))
        assert n0.connect_with_node(HOST, n1.port) and n2.connect_with_node(HOST, n0.port)
        wait_for(lambda: len(log) == 4, what="the connections")
        n0.stop()
        n1.stop()
        n2.stop()
        for n in (n0, n1, n2):
            n.join(10)
            assert not n.is_alive()
        events = [e for e, _ in log[4:]]
        assert events[:3] == ["node_request_to_stop"] * 3, events
        assert sorted(events[3:]) == ["inbound_node_disconnected"] * 2 + ["outbound_node_disconnected"] * 2
    finally:
        made.close()


def test_close_blocks_until_down(nodes):
    a, b = nodes(), nodes()
    assert a.connect_with_node(HOST, b.port)
    wait_for(lambda: b.nodes_inbound, what="a")
    a.close()
    assert not a.is_alive() and "outbound_node_disconnected" in a.names()
    with Node(HOST, 0) as c:
        c.start()
        assert c.is_alive()
    assert not c.is_alive()


# ---- a p2pnetwork 1.2 peer sees our closes ---------------------------------------------

class RefLog:
    def __init__(self):
        self.events, self.lock = [], threading.Lock()

    def __call__(self, event, main_node, connected_node, data):
        with self.lock:
            self.events.append((event, getattr(connected_node, "id", None)))

    def has(self, event, peer):
        with self.lock:
            return (event, peer) in self.events


@pytest.fixture
def reference():
    log = RefLog()
    # The unmodified p2pnetwork 1.2 Node; only its accept loop looks at its
    # stop flag more often, so that stopping it at the end takes a second.
    ref = RefNode(HOST, free_port(), id="reference", callback=log)
    ref.sock.settimeout(0.2)
    ref.start()
    yield ref, log
    ref.stop()
    ref.join(30)


def test_reference_sees_our_disconnect_with_node(nodes, reference):
    ref, log = reference
    a = nodes(Recorder, HOST, 0, "ours")
    assert a.connect_with_node(HOST, ref.port)
    out = wait_for(lambda: a.nodes_outbound, what="the reference")[0]
    wait_for(lambda: log.has("inbound_node_connected", "ours"), what="1.2's connected event")
    a.disconnect_with_node(out)
    wait_for(lambda: log.has("inbound_node_disconnected", "ours"), what="1.2's disconnected event")
    assert ref.nodes_inbound == []


def test_reference_sees_our_stop(nodes, reference):
    ref, log = reference
    a = nodes(Recorder, HOST, 0, "ours-in")
    b = nodes(Recorder, HOST, 0, "ours-out")
    assert ref.connect_with_node(HOST, a.port)
    assert b.connect_with_node(HOST, ref.port)
    wait_for(lambda: log.has("outbound_node_connected", "ours-in")
             and log.has("inbound_node_connected", "ours-out"), what="1.2's connected events")
    a.stop()
    b.stop()
    wait_for(lambda: log.has("outbound_node_disconnected", "ours-in")
             and log.has("inbound_node_disconnected", "ours-out"), what="1.2's disconnected events")
    assert ref.nodes_outbound == [] and ref.nodes_inbound == []
