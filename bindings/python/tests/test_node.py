"""Node: construction, attributes, life, connections and errors of bad calls."""

import ctypes
import socket
import threading

import pytest

from conftest import HOST, Recorder, connect, wait_for
from p2pnode import Node, NodeConnection, P2PError
from p2pnode import _native as native


def cb(event, main_node, connected_node, data):
    pass


def test_constructor_keyword_form(nodes):
    n = nodes(Node, HOST, 0, id="node-a", callback=cb, max_connections=3, start=False)
    assert n.id == "node-a"
    assert n.callback is cb
    assert n.host == HOST
    assert isinstance(n.port, int) and n.port > 0
    assert n.max_connections == 3
    assert isinstance(n, threading.Thread)
    assert not n.is_alive()


def test_constructor_positional_forms(nodes):
    n = nodes(Node, HOST, 0, "id-1", cb, 2, start=False)
    assert (n.id, n.callback, n.max_connections) == ("id-1", cb, 2)
    old = nodes(Node, HOST, 0, cb, start=False)  # the older Node(host, port, callback)
    assert old.callback is cb
    assert len(old.id) == 128 and int(old.id, 16) >= 0
    assert old.max_connections == 0


def test_id_is_made_a_string(nodes):
    n = nodes(Node, HOST, 0, 7, start=False)
    assert n.id == "7"
    m = nodes(Node, HOST, 0, start=False)
    assert m.id != n.id and len(m.id) == 128


def test_two_callbacks_are_refused():
    with pytest.raises(TypeError):
        Node(HOST, 0, cb, cb)


def test_str_and_repr(nodes):
    n = nodes(Node, HOST, 0, "x", start=False)
    assert str(n) == "Node: %s:%d" % (HOST, n.port)
    assert repr(n) == "<Node %s:%d id: x>" % (HOST, n.port)


def test_start_stop_join_is_alive(nodes):
    n = nodes(Recorder, start=False)
    n.start()
    assert n.is_alive()
    with pytest.raises(RuntimeError):
        n.start()
    n.stop()
    n.join(10)
    assert not n.is_alive()
    assert n.terminate_flag.is_set()
    assert n.names() == ["node_request_to_stop"]
    n.stop()  # idempotent
    assert n.nodes_inbound == [] and n.all_nodes == []


def test_stop_before_start_calls_request_to_stop(nodes):
    n = nodes(Recorder, start=False)
    n.stop()
    assert n.names() == ["node_request_to_stop"]
    n.start()  # as in p2pnetwork, the thread starts and ends at once
    n.join(10)
    assert not n.is_alive()


def test_context_manager_stops_and_frees():
    with Recorder(HOST, 0) as n:
        n.start()
        port = n.port
        assert n.is_alive()
    assert not n.is_alive()
    assert n.names() == ["node_request_to_stop"]
    # The port is released: a new node can bind it.
    with Node(HOST, port) as again:
        assert again.port == port


def test_close_without_start():
    n = Node(HOST, 0)
    n.close()
    n.close()


def test_debug_property_and_debug_print(nodes, capsys):
    n = nodes(Node, HOST, 0, "dbg", start=False)
    assert n.debug is False
    n.debug_print("hidden")
    n.debug = True
    assert n.debug is True
    n.debug_print("shown")
    n.debug = False
    out = capsys.readouterr().out
    assert "DEBUG (dbg): shown" in out and "hidden" not in out


def test_debug_set_before_init_in_subclass(nodes):
    class Early(Node):
        def __init__(self, host, port):
            self.debug = True
            super().__init__(host, port)

    n = nodes(Early, HOST, 0, start=False)
    assert n.debug is True


def test_library_debug_lines_go_to_stderr(nodes, capfd):
    n = nodes(Node, HOST, 0, "dbg2", start=False)
    n.debug = True
    n.start()
    n.stop()
    n.join(10)
    assert "DEBUG (dbg2):" in capfd.readouterr().err


def test_print_connections(nodes, capsys):
    a, b = nodes(), nodes()
    connect(a, b)
    a.print_connections()
    out = capsys.readouterr().out
    assert "Node connection overview:" in out
    assert "- Total nodes connected with us: 0" in out
    assert "- Total nodes connected to     : 1" in out


def test_connect_lists_and_node_connection_attributes(nodes):
    a, b = nodes(id="A"), nodes(id="B")
    out, inb = connect(a, b)
    assert isinstance(out, NodeConnection)
    assert (out.id, out.host, out.port, out.main_node) == ("B", HOST, b.port, a)
    assert (inb.id, inb.host, inb.port, inb.main_node) == ("A", HOST, a.port, b)
    assert out.sock is None
    assert out.direction == "outbound" and inb.direction == "inbound"
    assert a.nodes_outbound == [out] and a.nodes_inbound == [] and a.all_nodes == [out]
    assert b.nodes_inbound == [inb] and b.nodes_outbound == []
    # The same peer is the same object, equal and hashed alike.
    assert a.nodes_outbound[0] is out
    assert out == a.all_nodes[0] and hash(out) == hash(a.all_nodes[0])
    assert out != inb and len({out, inb, a.nodes_outbound[0]}) == 2
    assert str(out) == "NodeConnection: %s:%d <-> %s:%d (B)" % (HOST, a.port, HOST, b.port)
    assert repr(out) == "<NodeConnection: Node %s:%d <-> Connection %s:%d>" % (HOST, a.port, HOST, b.port)
    wait_for(lambda: a.of("outbound_node_connected") and b.of("inbound_node_connected"))
    assert a.of("outbound_node_connected")[0][1] is out
    assert b.of("inbound_node_connected")[0][1] is inb
    assert out.is_alive()


def test_connect_with_self_returns_false(nodes, capsys):
    a = nodes()
    assert a.connect_with_node(HOST, a.port) is False
    assert "Cannot connect with yourself" in capsys.readouterr().out
    assert a.all_nodes == []


def test_connect_twice_returns_true(nodes, capsys):
    a, b = nodes(), nodes(id="bee")
    connect(a, b)
    assert a.connect_with_node(HOST, b.port) is True
    assert "Already connected with this node (bee)" in capsys.readouterr().out
    assert len(a.nodes_outbound) == 1


def test_connect_back_to_an_inbound_peer_returns_true(nodes, capsys):
    a, b = nodes(id="A"), nodes()
    _, inb = connect(a, b)
    assert b.connect_with_node(HOST, a.port) is True
    # The library names the existing (inbound) peer.
    assert "connect_with_node: This node (A) is already connected with us." in capsys.readouterr().out
    assert b.all_nodes == [inb]
    # As with the reference, a saw b's second connection come and go.
    wait_for(lambda: a.of("inbound_node_disconnected"))
    assert a.names() == ["outbound_node_connected", "inbound_node_connected", "inbound_node_disconnected"]
    assert len(a.all_nodes) == 1
    b.send_to_nodes("still connected")
    wait_for(lambda: a.messages() == ["still connected"])


def test_connect_back_from_an_event_method(nodes, capsys):
    # b connects back once a's connect has returned (from inbound_node_connected
    # the two connects could race, and then either side, or both, may turn the
    # other away, as in p2pnetwork).
    class ConnectBack(Recorder):
        def node_message(self, node, data):
            super().node_message(node, data)
            self._rec("connect back", self.connect_with_node(HOST, node.port))

    a, b = nodes(id="A"), nodes(ConnectBack)
    connect(a, b)
    a.send_to_nodes("connect back")
    wait_for(lambda: b.of("connect back"), what="the connect from the event method")
    assert b.of("connect back")[0][1] is True
    assert "This node (A) is already connected with us." in capsys.readouterr().out
    wait_for(lambda: a.of("inbound_node_disconnected"))
    assert len(b.all_nodes) == 1 and len(a.all_nodes) == 1


def test_connect_failures_return_false(nodes):
    a = nodes()
    with socket.socket() as s:  # a port nobody listens on
        s.bind((HOST, 0))
        dead = s.getsockname()[1]
    assert a.connect_with_node(HOST, dead) is False
    assert a.connect_with_node(HOST, 0) is False
    assert a.connect_with_node(HOST, 70000) is False
    assert a.connect_with_node("", 80) is False
    assert a.connect_with_node("bad\0host", 80) is False
    assert a.connect_with_node(HOST, "not a port") is False


def test_connect_before_start_returns_false(nodes, capsys):
    a, b = nodes(start=False), nodes()
    assert a.connect_with_node(HOST, b.port) is False
    assert "not started" in capsys.readouterr().out


def test_disconnect_with_node(nodes):
    a, b = nodes(), nodes()
    out, inb = connect(a, b)
    a.disconnect_with_node(out)
    # node_disconnect_with_outbound_node is delivered before disconnect returns.
    assert "node_disconnect_with_outbound_node" in a.names()
    wait_for(lambda: a.of("outbound_node_disconnected"))
    wait_for(lambda: b.of("inbound_node_disconnected"))
    assert a.of("outbound_node_disconnected")[0][1] is out
    assert b.of("inbound_node_disconnected")[0][1] is inb
    names = a.names()
    assert names.index("node_disconnect_with_outbound_node") < names.index("outbound_node_disconnected")
    assert a.all_nodes == [] and b.all_nodes == []
    out.join(10)
    assert not out.is_alive() and out.terminate_flag.is_set()


def test_disconnect_with_unknown_or_inbound_node_prints_debug(nodes, capsys):
    a, b = nodes(id="A"), nodes()
    out, inb = connect(b, a)
    a.debug = True
    a.disconnect_with_node("nobody")
    a.disconnect_with_node(inb)          # inbound: the reference refuses too
    a.disconnect_with_node(out)          # not this node's peer
    text = capsys.readouterr().out
    assert text.count("cannot disconnect with a node with which we are not connected") == 3
    assert len(a.all_nodes) == 1
    a.debug = False


def test_node_connection_stop(nodes):
    a, b = nodes(), nodes()
    out, inb = connect(a, b)
    inb.stop()  # close from the accepting side
    wait_for(lambda: b.of("inbound_node_disconnected") and a.of("outbound_node_disconnected"))
    inb.join(10)
    assert not inb.is_alive()
    inb.stop()  # already gone: no error


def test_max_connections(nodes):
    a = nodes(max_connections=1)
    b, c = nodes(), nodes()
    assert a.max_connections == 1
    connect(b, a)
    assert c.connect_with_node(HOST, a.port) is False
    assert len(a.nodes_inbound) == 1
    a.max_connections = 0  # unlimited from now on
    assert a.max_connections == 0
    connect(c, a)
    assert len(a.nodes_inbound) == 2


def test_max_connections_errors(nodes):
    a = nodes(start=False)
    with pytest.raises(P2PError) as e:
        a.max_connections = -1
    assert e.value.code == native.P2P_EINVAL and e.value.name == "P2P_EINVAL"
    with pytest.raises(TypeError):
        a.max_connections = "3"


def test_bind_error():
    with socket.socket() as s:
        s.bind((HOST, 0))
        s.listen(1)
        with pytest.raises(P2PError) as e:
            Node(HOST, s.getsockname()[1])
    assert e.value.code == native.P2P_EBIND
    assert e.value.message


def test_bad_constructor_arguments():
    with pytest.raises(P2PError) as e:
        Node(HOST, 70000)
    assert e.value.code == native.P2P_EINVAL
    with pytest.raises(P2PError):
        Node(HOST, 0, max_connections=-1)
    with pytest.raises(ValueError):
        Node("127.0.0.1\0", 0)


def test_limits(nodes):
    a = nodes(start=False)
    assert a.get_limit("reconnect_interval_ms") == 1000
    a.set_limit("reconnect_interval_ms", 50)
    assert a.get_limit("reconnect_interval_ms") == 50
    with pytest.raises(ValueError):
        a.set_limit("nope", 1)
    with pytest.raises(P2PError) as e:
        a.set_limit("max_frame_size", -5)
    assert e.value.code == native.P2P_EINVAL
    a.start()
    with pytest.raises(P2PError) as e:
        a.set_limit("max_frame_size", 100)
    assert e.value.code == native.P2P_ESTATE
    a.set_limit("max_connections", 4)  # allowed any time
    assert a.max_connections == 4


def test_p2p_error_fields():
    err = P2PError(native.P2P_ENOPEER, "gone", "p2p_node_send")
    assert err.code == -9 and err.name == "P2P_ENOPEER" and err.message == "gone"
    assert "p2p_node_send" in str(err) and "P2P_ENOPEER" in str(err)
    assert P2PError(native.P2P_EFULL).message  # falls back to p2p_strerror


def test_counters(nodes):
    a, b, c = nodes(), nodes(), nodes()
    connect(a, b)
    connect(a, c)
    a.send_to_nodes("x")            # one frame per peer
    wait_for(lambda: b.message_count_recv == 1 and c.message_count_recv == 1)
    assert a.message_count_send == 2
    assert a.message_count_recv == 0 and a.message_count_rerr == 0
    a.message_count_send = 0        # the reference's counters are plain attributes
    assert a.message_count_send == 0
    a.send_to_node(a.nodes_outbound[0], "y")
    assert a.message_count_send == 1
    a.stop()
    a.join(10)
    assert a.message_count_send == 1  # kept after the node is freed


def test_create_new_connection_hook(nodes):
    made = []

    class MyConnection(NodeConnection):
        def __init__(self, main_node, sock, id, host, port):
            super().__init__(main_node, sock, id, host, port)
            made.append((sock, id, host, port, self.handle))

    class MyNode(Recorder):
        def create_new_connection(self, connection, id, host, port):
            return MyConnection(self, connection, id, host, port)

    a, b = nodes(MyNode, id="A"), nodes(id="B")
    out, _ = connect(a, b)
    assert isinstance(out, MyConnection)
    assert made == [(None, "B", HOST, b.port, out.handle)]
    assert out.handle > 0
    out.send("through the subclass")
    wait_for(lambda: b.messages() == ["through the subclass"])


def test_set_info_get_info(nodes):
    a, b = nodes(), nodes()
    out, _ = connect(a, b)
    out.set_info("obj", {"any": [1, object]})
    out.set_info(3, "int key")
    assert out.get_info("obj")["any"][1] is object
    assert out.get_info(3) == "int key"
    assert out.info["obj"] is out.get_info("obj")
    with pytest.raises(KeyError):
        out.get_info("missing")
    # A key in the library's own store of the peer is found there.
    c = ctypes  # p2p_peer_set_info is not one of the package's calls: declared here
    native.lib.p2p_peer_set_info.argtypes = [c.c_void_p, c.c_uint64, c.c_char_p, c.c_void_p,
                                             c.c_size_t]
    rc = native.lib.p2p_peer_set_info(a._p2p_node, out.handle, b"native", b"v\xc3\xa9", 3)
    assert rc == native.P2P_OK
    assert out.get_info("native") == "v\u00e9"
    rc = native.lib.p2p_peer_set_info(a._p2p_node, out.handle, b"raw", b"\xff\x00", 2)
    assert out.get_info("raw") == b"\xff\x00"
