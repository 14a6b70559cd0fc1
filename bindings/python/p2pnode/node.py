"""Node: a peer-to-peer node on the native library, with the API of p2pnetwork.node.Node.

Events are delivered on the node's own thread, one at a time and in order (see the README).
"""

from __future__ import annotations

import ctypes
import hashlib
import random
import sys
import threading
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import _native as _n
from ._codec import (Event, Item, Reader, decode_payload, decode_run, encode_payload, send_code,
                     sent, wire_packet)
from ._native import P2PError, cint
from .nodeconnection import NodeConnection

__all__ = ["Node", "P2PError"]

Callback = Callable[[str, "Node", Any, Any], Any]
#: The names of Node.set_limit and their P2P_LIMIT_* codes (from the header).
LIMITS = _n.LIMITS
_DISCONNECTED = (_n.P2P_EVENT_OUTBOUND_DISCONNECTED, _n.P2P_EVENT_INBOUND_DISCONNECTED)
_PLAIN = (_n.P2P_EVENT_OUTBOUND_CONNECTED, _n.P2P_EVENT_INBOUND_CONNECTED,
          _n.P2P_EVENT_DISCONNECT_WITH_OUTBOUND)


def _event_method(name: str, debug: str = "") -> Callable[["Node", NodeConnection], None]:
    """One of p2pnetwork's event methods on a peer: a debug line, then the callback."""
    def method(self: "Node", node: NodeConnection) -> None:
        self.debug_print((debug or name + ": ") + node.id)
        if self.callback is not None:
            self.callback(name, self, node, {})
    method.__name__, method.__qualname__ = name, "Node." + name
    return method


def _count(i: int, doc: str) -> Any:
    """A message count of p2pnetwork's (settable): the library's counter plus an offset."""
    def get(self: "Node") -> int:
        return self._p2p_counters()[i] + self._p2p_offsets[i]

    def put(self: "Node", value: int) -> None:
        self._p2p_offsets[i] = int(value) - self._p2p_counters()[i]
    return property(get, put, doc=doc)


def _overrides(obj: Any, base: type, *names: str) -> bool:
    return any(getattr(type(obj), n, None) is not getattr(base, n) for n in names)


class Node(_n.NativeNode, threading.Thread):
    """A node on host:port that connects with others and raises p2pnetwork's events.

    ``Node(host, port, id=None, callback=None, max_connections=0)`` (also
    ``Node(host, port, callback)``); port 0 picks a free port; the socket is bound here.
    The event methods, p2pnetwork's (each prints its debug line, then calls the callback):
    outbound_node_connected, inbound_node_connected, node_disconnected (node.dropped set;
    calls inbound_ or outbound_node_disconnected), node_disconnect_with_outbound_node,
    node_message (data: a JSON value, a str or bytes), node_request_to_stop (the peers are
    still connected), node_reconnection_error (True, the default, dials again); and
    node_message_batch (p2pnode only: a run of one peer's messages, to node_message by default).
    """

    def __init__(self, host: str, port: int, id: Any = None, callback: Optional[Callback] = None,
                 max_connections: int = 0, *, encryption: str = "preferred",
                 identity: Any = None) -> None:
        super().__init__()
        if callable(id):
            if callback is not None:
                raise TypeError("p2pnode: Node() got two callbacks (id is callable)")
            id, callback = None, id
        self.terminate_flag = threading.Event()
        self.callback = callback
        self.sock = None
        self._p2p_node: Optional[int] = None
        self._p2p_lock = threading.RLock()
        self._p2p_conns: Dict[int, NodeConnection] = {}
        self._p2p_creating: Optional[Tuple[int, Optional[int]]] = None
        self._p2p_started = self._p2p_freed = self._p2p_stopping = False
        self._p2p_counts, self._p2p_offsets = [0, 0, 0], [0, 0, 0]
        self._p2p_send_overrides = 0  # live connections whose class overrides send()
        #: Peers connected with reconnect=True: {"host", "port", "tries"} (and "trials").
        self.reconnect_to_nodes: List[Dict[str, Any]] = []
        self.host, self.port = host, port
        if id is None and type(self).generate_id is not Node.generate_id:
            id = self.generate_id()  # a subclass's ids, as in p2pnetwork
        self._p2p_node, self.port, self.id = self._p2p_new(host, port, id, max_connections)
        self._p2p_setup(encryption, identity)
        self.debug = self.debug  # a subclass may set it first: now the library's too
        if type(self).init_server is not Node.init_server:
            self.init_server()

    def _p2p_new(self, host: str, port: Any, id: Any, max_connections: Any) -> Tuple[int, int, str]:
        """(handle, port, id) of the native node (SecureNode makes another kind)."""
        return _n.new_node("p2p_node_new", host, port, id, max_connections)

    def _p2p_counters(self) -> List[int]:
        """sent, received, receive_errors (the last seen once the node is freed)."""
        c = _n.sized(_n.P2PStats)
        if not self._p2p_freed and _n.lib.p2p_node_stats(self._p2p_node, ctypes.byref(c)) == 0:
            self._p2p_counts = [c.sent, c.received, c.receive_errors]
        return self._p2p_counts

    @property
    def debug(self) -> bool:
        """Debug output on or off (the library's and debug_print's)."""
        return bool(self.__dict__.get("_p2p_debug", False))

    @debug.setter
    def debug(self, on: bool) -> None:
        self.__dict__["_p2p_debug"] = bool(on)  # the library's follows; set before __init__ too
        node = self.__dict__.get("_p2p_node")
        rc = _n.lib.p2p_node_set_debug(node, int(bool(on))) if node and not self._p2p_freed else 0
        if rc not in (_n.P2P_OK, _n.P2P_EHANDLE):
            raise _n.error(rc, "p2p_node_set_debug")

    @property
    def max_connections(self) -> int:
        """The limit of inbound peers (0: unlimited); settable at any time."""
        return self.get_limit("max_connections")

    @max_connections.setter
    def max_connections(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("p2pnode: max_connections must be an int")
        self.set_limit("max_connections", value)

    def counters(self, node: Any = None) -> dict:
        """The node's counters, or a peer's (a NodeConnection): p2p_stats' fields (p2pnode only)."""
        c = _n.sized(_n.P2PStats)
        if node is None:
            _n.call("p2p_node_stats", self._p2p_node, ctypes.byref(c))
        else:
            _n.call("p2p_peer_stats", self._p2p_node, node._p2p_handle, ctypes.byref(c))
        return {f[0]: getattr(c, f[0]) for f in c._fields_ if f[0] != "size"}

    message_count_send = _count(0, "Messages sent (a broadcast counts once per peer).")
    message_count_recv = _count(1, "Messages received.")
    message_count_rerr = _count(2, "Received frames that were undecodable or over a limit.")
    def _p2p_live(self) -> Optional[int]:
        return None if self._p2p_freed else self._p2p_node

    def _p2p_connection(self, handle: int, facts: Any = None) -> Optional[NodeConnection]:
        """The NodeConnection of a peer handle, made on first sight."""
        with self._p2p_lock:
            conn = self._p2p_conns.get(handle)
            if conn is not None:
                return conn
            facts = facts or _n.peer_facts(self._p2p_node, handle)  # None: gone meanwhile
            if facts is None:
                return None
            pid, host, port, direction = facts
            self._p2p_creating = (handle, direction)
            try:
                conn = self.create_new_connection(None, pid, host, port)
            except Exception:
                self._p2p_report("create_new_connection")
                conn = NodeConnection(self, None, pid, host, port)
            finally:
                self._p2p_creating = None
            conn._p2p_handle, conn._p2p_direction = handle, direction
            # parse_packet calls decompress: an override of either takes every packet.
            own_parse = _overrides(conn, NodeConnection, "parse_packet", "decompress")
            conn._p2p_parser = conn.parse_packet if own_parse else None
            conn._p2p_own_send = _overrides(conn, NodeConnection, "send")
            self._p2p_send_overrides += conn._p2p_own_send
            self._p2p_conns[handle] = conn
            return conn

    def _p2p_owns(self, node: Any) -> bool:
        return isinstance(node, NodeConnection) and node.main_node is self and node._p2p_handle != 0

    def debug_print(self, message: str) -> None:
        """Print "DEBUG (<id>): message" when debug is on."""
        if self.debug:
            print("DEBUG (" + self.id + "): " + str(message))

    def generate_id(self) -> str:
        """p2pnetwork's id: the SHA-512 (hex) of host, port and a random number."""
        id = hashlib.sha512()
        t = str(self.host) + str(self.port) + str(random.randint(1, 99999999))
        id.update(t.encode("ascii", "replace"))
        return id.hexdigest()

    def init_server(self) -> None:
        """Prints p2pnetwork's line; the library bound the socket already (sock stays None)."""
        self.debug_print("Initialisation of the Node on port: " + str(self.port)
                         + " on node (" + self.id + ")")

    def print_connections(self) -> None:
        """Print how many inbound and outbound peers the node has."""
        print("Node connection overview:")
        print("- Total nodes connected with us: %d" % len(self.nodes_inbound))
        print("- Total nodes connected to     : %d" % len(self.nodes_outbound))

    def send_to_nodes(self, data: Any, exclude: Any = [],  # noqa: B006 (the reference's default)
                      compression: str = "none") -> None:
        """Send data (str, dict as JSON, or bytes) to every peer but those in exclude (one call;
        through each peer's send() when a connection class overrides it, as p2pnetwork)."""
        payload = encode_payload(data)
        code = send_code(self, "send_to_nodes", compression)
        if code is None:
            return
        exclude = list(exclude) if exclude else ()  # an iterator is read once
        if self._p2p_send_overrides:
            with self._p2p_lock:
                peers = sorted(self._p2p_conns.values(), key=lambda c: c._p2p_direction or 0)
            for p in peers:
                if p in exclude:
                    self.debug_print("Node send_to_nodes: Excluding node in sending the message")
                else:
                    self.send_to_node(p, data, compression)
            return
        handles = [n._p2p_handle for n in exclude if self._p2p_owns(n)] if exclude else []
        arr = (ctypes.c_uint64 * len(handles))(*handles) if handles else None
        sent(self, _n.lib.p2p_node_broadcast(self._p2p_node, payload, len(payload), arr,
                                             len(handles), code),
             "p2p_node_broadcast", "Node send_to_nodes: ")

    def send_to_node(self, n: Any, data: Any, compression: str = "none") -> None:
        """Send data to the peer n; an unknown or gone n gets a debug line, as in p2pnetwork."""
        encode_payload(data)
        if self._p2p_found(n, "send_to_node"):
            n.send(data, compression=compression)

    def send_batch_to_node(self, n: Any, messages: Any, compression: str = "none") -> int:
        """NodeConnection.send_batch to the peer n; how many were queued (p2pnode only)."""
        found = self._p2p_found(n, "send_batch_to_node")
        return n.send_batch(messages, compression=compression) if found else 0

    def _p2p_found(self, n: Any, who: str) -> bool:
        """True for a live peer of ours; else p2pnetwork's debug line (nothing is sent)."""
        if self._p2p_owns(n) and n.is_alive():
            return True
        self.debug_print("Node " + who + ": Could not send the data, node is not found!")
        return False

    def connect_with_node(self, host: str, port: int, reconnect: bool = False) -> bool:
        """Connect with host:port (blocking); True when connected, also already; with reconnect
        the library re-dials the lost peer, asking node_reconnection_error."""
        peer = ctypes.c_uint64(0)
        try:
            chost, cport = _n.encode_str(host), cint(port, "port")
        except (TypeError, ValueError) as e:
            self.debug_print("TcpServer.connect_with_node: Could not connect with node. ("
                             + str(e) + ")")
            return False
        rc = _n.lib.p2p_node_connect(self._p2p_node, chost, cport, 1 if reconnect else 0,
                                     ctypes.byref(peer))
        if rc == _n.P2P_OK:
            # Known from now on (send_to_nodes), as p2pnetwork lists it before it returns.
            self._p2p_connection(peer.value)
            if reconnect and not any(e.get("host") == host and e.get("port") == port
                                     for e in self.reconnect_to_nodes):
                self.debug_print("connect_with_node: Reconnection check is enabled on node "
                                 + host + ":" + str(port))
                self.reconnect_to_nodes.append({"host": host, "port": port, "tries": 0})
            return True
        err = _n.error(rc, "p2p_node_connect")
        conn = self._p2p_connection(peer.value) if rc == _n.P2P_EALREADY and peer.value else None
        if rc == _n.P2P_EALREADY and conn is not None and conn._p2p_direction == _n.P2P_INBOUND:
            print("connect_with_node: This node (" + conn.id + ") is already connected with us.")
        elif rc == _n.P2P_EALREADY:
            print("connect_with_node: Already connected with this node ("
                  + (conn.id if conn is not None else "") + ").")
        elif rc in (_n.P2P_ESELF, _n.P2P_ESTATE):
            print("connect_with_node: " + ("Cannot connect with yourself!!" if rc == _n.P2P_ESELF
                                           else "the node is not started; call start() first"))
        else:
            self.debug_print("TcpServer.connect_with_node: Could not connect with node. ("
                             + err.message + ")")
        return rc == _n.P2P_EALREADY

    def disconnect_with_node(self, node: Any) -> None:
        """Close the connection with an outbound peer (no longer reconnected)."""
        if (self._p2p_owns(node) and node._p2p_direction == _n.P2P_OUTBOUND
                and node._p2p_disconnect()):
            self._p2p_forget_reconnect(node.host, node.port)
            return
        self.debug_print("Node disconnect_with_node: cannot disconnect with a node with which "
                         "we are not connected.")

    def reconnect_nodes(self) -> None:
        """p2pnetwork's reconnection check, for a program that calls it (the library needs none)."""
        outbound = self.nodes_outbound
        for entry in list(self.reconnect_to_nodes):
            host, port = entry["host"], entry["port"]
            where = str(host) + ":" + str(port)
            self.debug_print("reconnect_nodes: Checking node " + where)
            if any(n.host == host and n.port == port for n in outbound):
                entry["trials"] = 0
                self.debug_print("reconnect_nodes: Node " + where + " still running!")
                continue
            entry["trials"] = entry.get("trials", 0) + 1
            if self.node_reconnection_error(host, port, entry["trials"]):
                self.connect_with_node(host, port)
            else:
                self.debug_print("reconnect_nodes: Removing node (" + where
                                 + ") from the reconnection list!")
                self._p2p_forget_reconnect(host, port)

    def _p2p_forget_reconnect(self, host: Any, port: Any) -> None:
        self.reconnect_to_nodes[:] = [e for e in self.reconnect_to_nodes
                                      if not (e.get("host") == host and e.get("port") == port)]

    def create_new_connection(self, connection: Any, id: str, host: str,
                              port: int) -> NodeConnection:
        """Make the NodeConnection of a new peer (connection is None); override for a subclass."""
        return NodeConnection(self, connection, id, host, port)

    def start(self) -> None:
        """Start accepting connections and delivering events (on this node's thread)."""
        with self._p2p_lock:
            if self._p2p_started:
                raise RuntimeError("threads can only be started once")
            if not self._p2p_freed:
                _n.call("p2p_node_start", self._p2p_node)
            self._p2p_started = True
        super().start()

    def stop(self) -> None:
        """Ask the node to stop and return (join() waits); node_request_to_stop is raised here."""
        with self._p2p_lock:
            asked, self._p2p_stopping = self._p2p_stopping, True
            freed, started = self._p2p_freed, self._p2p_started
        if not asked:
            self._p2p_call(self.node_request_to_stop)
        self.terminate_flag.set()
        if freed:
            return
        if not started:
            self._p2p_free()  # the library has nothing to close
            return
        rc = _n.lib.p2p_node_request_stop(self._p2p_node)
        if rc not in (_n.P2P_OK, _n.P2P_EHANDLE):
            raise _n.error(rc, "p2p_node_request_stop")

    def close(self) -> None:
        """Stop, wait until down and free the node (blocking; from an event method only asks)."""
        self.stop()
        if threading.current_thread() is self:
            return
        if self._p2p_started:
            self.join()
        self._p2p_free()

    def __enter__(self) -> "Node":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if self.__dict__.get("_p2p_node") is not None and not self._p2p_freed:
                self._p2p_freed = True
                _n.lib.p2p_node_free(self._p2p_node)
        except Exception:
            pass

    def _p2p_free(self) -> None:
        with self._p2p_lock:
            if self._p2p_freed or self._p2p_node is None:
                return
            self._p2p_counters()
            self._p2p_freed = True
            for conn in self._p2p_conns.values():
                conn._p2p_gone()
        _n.lib.p2p_node_free(self._p2p_node)

    def run(self) -> None:
        """The node's thread: take events from the library and deliver them."""
        reader = Reader(self._p2p_node or 0, self._p2p_conns)
        try:
            while not self._p2p_freed:
                rc, batch = reader.next(-1)
                if rc in (_n.P2P_ESTOPPED, _n.P2P_EHANDLE):
                    break
                if rc != _n.P2P_OK:
                    err = _n.error(rc, "p2p_node_next")
                    print("p2pnode: %r stops delivering events: %s" % (self, err), file=sys.stderr)
                    break
                self._p2p_deliver(batch)
        finally:
            self._p2p_free()

    def _p2p_deliver(self, batch: List[Item]) -> None:
        """Deliver a batch in order: each run of one peer's messages to node_message_batch."""
        for item in batch:
            if not isinstance(item, tuple):
                self._p2p_dispatch(item)
                continue
            peer, facts, run = item
            conn = self._p2p_conns.get(peer) or self._p2p_connection(peer, facts)
            if conn is None:
                continue
            parse = conn._p2p_parser
            if parse is None:
                values = decode_run(run)
            else:
                values = []
                for _, data, code in run:
                    try:  # a subclass's parse_packet
                        values.append(parse(wire_packet(data, code)))
                    except BaseException:
                        self._p2p_report("parse_packet")
            if values:
                self._p2p_call(self.node_message_batch, conn, values)

    def _p2p_report(self, where: str) -> None:
        print("p2pnode: exception in %s of %r (the node goes on):" % (where, self), file=sys.stderr)
        traceback.print_exc(file=sys.stderr)

    def _p2p_call(self, method: Callable[..., Any], *args: Any, failed: Any = None) -> Any:
        """method(*args); failed after printing what it raised (the node goes on)."""
        try:
            return method(*args)
        except BaseException:
            self._p2p_report(getattr(method, "__name__", "an event method"))
            return failed

    def _p2p_dispatch(self, ev: Event) -> None:
        t = ev.type
        if t == _n.P2P_EVENT_RECONNECTION_ERROR:
            answer = bool(self._p2p_call(self.node_reconnection_error, ev.host, ev.port, ev.trials,
                                         failed=True))  # an exception keeps trying
            _n.lib.p2p_node_reply(self._p2p_node, 1 if answer else 0)
            for entry in self.reconnect_to_nodes:
                if entry.get("host") == ev.host and entry.get("port") == ev.port:
                    entry["trials"] = ev.trials
            if not answer:
                self._p2p_forget_reconnect(ev.host, ev.port)
            return
        if t == _n.P2P_EVENT_REQUEST_TO_STOP:
            with self._p2p_lock:  # stop() raised it already
                asked, self._p2p_stopping = self._p2p_stopping, True
            if not asked:
                self._p2p_call(self.node_request_to_stop)
            return
        conn = self._p2p_connection(ev.peer, ev.facts)
        if conn is None:
            return
        if t in _PLAIN:  # the method p2p_event_name names: outbound_node_connected...
            self._p2p_call(getattr(self, _n.lib.p2p_event_name(t).decode("ascii")), conn)
        elif t in _DISCONNECTED:
            with self._p2p_lock:
                if self._p2p_conns.pop(ev.peer, None) is not None and conn._p2p_own_send:
                    self._p2p_send_overrides -= 1
            conn.terminate_flag.set()
            conn.dropped, conn.dropped_bytes = ev.dropped, ev.dropped_bytes
            self._p2p_call(self.node_disconnected, conn)
            conn._p2p_gone()
        elif t == _n.P2P_EVENT_TOPIC_MESSAGE:
            self._p2p_call(self.node_topic_message, conn, ev.topic, ev.origin,
                           decode_payload(ev.kind, ev.data))
        else:
            self._p2p_dispatch_more(conn, ev)

    def _p2p_dispatch_more(self, conn: NodeConnection, ev: Event) -> None:
        """Events only other kinds of node raise (SecureNode)."""

    outbound_node_connected = _event_method("outbound_node_connected")
    inbound_node_connected = _event_method("inbound_node_connected")
    inbound_node_disconnected = _event_method("inbound_node_disconnected")
    outbound_node_disconnected = _event_method("outbound_node_disconnected")
    node_disconnect_with_outbound_node = _event_method(
        "node_disconnect_with_outbound_node", "node wants to disconnect with oher outbound node: ")

    def node_disconnected(self, node: NodeConnection) -> None:
        self.debug_print("node_disconnected: " + node.id)
        if node._p2p_direction == _n.P2P_INBOUND:
            self.inbound_node_disconnected(node)
        else:
            self.outbound_node_disconnected(node)

    def node_message(self, node: NodeConnection, data: Any) -> None:
        if self.debug:  # str(data) costs more than the rest of a message's way here
            self.debug_print("node_message: " + node.id + ": " + str(data))
        if self.callback is not None:
            self.callback("node_message", self, node, data)

    def node_message_batch(self, node: NodeConnection, messages: List[Any]) -> None:
        method = self.node_message
        for data in messages:
            try:
                method(node, data)
            except BaseException:
                self._p2p_report("node_message")

    def node_topic_message(self, node: NodeConnection, topic: str, origin_id: str,
                           data: Any) -> None:
        self.debug_print("node_topic_message: " + topic + " from " + origin_id)
        if self.callback is not None:
            self.callback("node_topic_message", self, node,
                          {"topic": topic, "origin": origin_id, "data": data})

    def node_request_to_stop(self) -> None:
        self.debug_print("node is requested to stop!")
        if self.callback is not None:
            self.callback("node_request_to_stop", self, {}, {})

    def node_reconnection_error(self, host: str, port: int, trials: int) -> bool:
        self.debug_print("node_reconnection_error: Reconnecting to node " + host + ":" + str(port)
                         + " (trials: " + str(trials) + ")")
        return True

    def __str__(self) -> str:
        return "Node: {}:{}".format(getattr(self, "host", "?"), getattr(self, "port", "?"))

    def __repr__(self) -> str:
        return "<Node {}:{} id: {}>".format(getattr(self, "host", "?"), getattr(self, "port", "?"),
                                            getattr(self, "id", "?"))
