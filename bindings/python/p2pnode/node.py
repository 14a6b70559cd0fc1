"""Node: a peer-to-peer node, with the API of p2pnetwork.node.Node.

The networking runs in the native library (libp2pnode); this class keeps
p2pnetwork's API on top of it. Subclass it and override the event methods,
or pass one callback::

    node = Node("127.0.0.1", 0, callback=lambda event, main, conn, data: print(event, data))
    node.start(); node.connect_with_node("127.0.0.1", 8002); node.send_to_nodes("hi"); node.stop()

Events are taken from the library in batches (p2p_node_poll) by the node's
own thread, which start() starts, and handed to the event methods there, one
at a time and in order. An exception raised in an event method is reported
on standard error and the node goes on.
"""

from __future__ import annotations

import ctypes
import hashlib
import random
import sys
import threading
import traceback
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from . import _native as _n
from ._codec import (GONE_CODES, c_int, decode_payload, encode_payload, unknown_compression,
                     wire_packet)
from ._events import EVENT, Event, F
from ._native import P2PError
from .nodeconnection import NodeConnection

__all__ = ["Node", "P2PError"]

Callback = Callable[[str, "Node", Any, Any], Any]

_BATCH = 1024
_POLL_WAIT = -1  # p2p_node_poll waits until an event comes or the node stops
#: The names of Node.set_limit and their P2P_LIMIT_* codes (from the header).
LIMITS = _n.LIMITS
_PLAIN = (_n.P2P_EVENT_OUTBOUND_CONNECTED, _n.P2P_EVENT_INBOUND_CONNECTED,
          _n.P2P_EVENT_DISCONNECT_WITH_OUTBOUND)
class Node(threading.Thread):
    """A node that listens on host:port, connects with other nodes and raises events.

    ``Node(host, port, id=None, callback=None, max_connections=0)`` as in
    p2pnetwork; the older ``Node(host, port, callback)`` works too. port 0
    picks a free port (read it back from ``node.port``); id None generates
    one; max_connections limits inbound peers (0: unlimited). The listening
    socket is bound here, so a port in use raises P2PError (P2P_EBIND).

    Like p2pnetwork's Node it is a threading.Thread (start, stop, join,
    is_alive) and, as there, not a daemon thread: a started node keeps the
    program running until it is stopped. It is also a context manager whose
    exit stops the node, waits for its thread and frees it.

    Events go to the methods below (override them in a subclass) whose
    defaults call ``callback(event, main_node, connected_node, data)`` as
    p2pnetwork does.
    """

    def __init__(self, host: str, port: int, id: Any = None, callback: Optional[Callback] = None,
                 max_connections: int = 0) -> None:
        """Create the node and bind its listening socket (see the class doc)."""
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
        self._p2p_gone: Set[int] = set()
        self._p2p_creating: Optional[Tuple[int, Optional[int]]] = None
        self._p2p_started = False
        self._p2p_freed = False
        self._p2p_counts: List[int] = [0, 0, 0]
        self._p2p_offsets: List[int] = [0, 0, 0]
        self._p2p_stopping = False  # stop() was called (node_request_to_stop raised)
        self._p2p_send_overrides = 0  # live connections whose class overrides send()
        #: Peers connected with reconnect=True, as p2pnetwork lists them:
        #: {"host", "port", "tries"} ("trials" once a reconnection was tried).
        self.reconnect_to_nodes: List[Dict[str, Any]] = []
        pending_debug = self.__dict__.pop("_p2p_pending_debug", None)

        self.host = host
        self.port = port
        if id is None and type(self).generate_id is not Node.generate_id:
            id = self.generate_id()  # a subclass's ids, as in p2pnetwork
        cid = _n.encode_str(str(id)) if id is not None else None
        self._p2p_node = self._p2p_new(_n.encode_str(host), c_int(port, "port"), cid,
                                       c_int(max_connections, "max_connections"))
        self.port = self._p2p_read_port()
        self.id = _n.take_checked("p2p_node_id_buf", self._p2p_node).decode("utf-8", "replace")
        self._p2p_debug = False
        self.debug = bool(pending_debug) if pending_debug is not None else False
        if type(self).init_server is not Node.init_server:
            self.init_server()

    def _p2p_new(self, host: Optional[bytes], port: int, id: Optional[bytes],
                 max_connections: int) -> int:
        """Make the native node and return its handle (SecureNode makes another kind)."""
        out = ctypes.c_void_p()
        _n.check(_n.lib.p2p_node_new(host, port, id, max_connections, ctypes.byref(out)),
                 "p2p_node_new")
        return out.value or 0

    # ---- reading the library ------------------------------------------------------

    def _p2p_read_port(self) -> int:
        port = ctypes.c_int()
        _n.check(_n.lib.p2p_node_port(self._p2p_node, ctypes.byref(port)), "p2p_node_port")
        return port.value

    def _p2p_counters(self) -> List[int]:
        if not self._p2p_freed:
            c = _n.sized(_n.P2PStats)
            if _n.lib.p2p_node_stats(self._p2p_node, ctypes.byref(c)) == _n.P2P_OK:
                self._p2p_counts = [c.sent, c.received, c.receive_errors]
        return self._p2p_counts

    def _p2p_count(self, i: int) -> int:
        return self._p2p_counters()[i] + self._p2p_offsets[i]

    def _p2p_set_count(self, i: int, value: int) -> None:
        self._p2p_offsets[i] = int(value) - self._p2p_counters()[i]

    # ---- attributes of the reference ----------------------------------------------

    @property
    def debug(self) -> bool:
        """Debug output on or off (the library's and debug_print's)."""
        node = self.__dict__.get("_p2p_node")
        if node is None:
            return bool(self.__dict__.get("_p2p_pending_debug", False))
        if not self._p2p_freed:
            on = ctypes.c_int()
            if _n.lib.p2p_node_get_debug(node, ctypes.byref(on)) == _n.P2P_OK:
                return bool(on.value)
        return self._p2p_debug

    @debug.setter
    def debug(self, on: bool) -> None:
        node = self.__dict__.get("_p2p_node")
        if node is None:  # set by a subclass before Node.__init__
            self.__dict__["_p2p_pending_debug"] = bool(on)
            return
        self._p2p_debug = bool(on)
        if not self._p2p_freed:
            rc = _n.lib.p2p_node_set_debug(node, 1 if on else 0)
            if rc not in (_n.P2P_OK, _n.P2P_EHANDLE):
                raise _n.error(rc, "p2p_node_set_debug")

    @property
    def max_connections(self) -> int:
        """The limit of inbound peers (0: unlimited); settable at any time."""
        value = ctypes.c_int64()
        _n.check(_n.lib.p2p_node_get_limit(self._p2p_node, _n.P2P_LIMIT_MAX_CONNECTIONS,
                                           ctypes.byref(value)), "p2p_node_get_limit")
        return value.value

    @max_connections.setter
    def max_connections(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("p2pnode: max_connections must be an int")
        _n.check(_n.lib.p2p_node_set_limit(self._p2p_node, _n.P2P_LIMIT_MAX_CONNECTIONS, value),
                 "p2p_node_set_limit")

    def set_limit(self, name: str, value: int) -> None:
        """Set one of the limits the reference lacks (p2pnode only).

        name is one of LIMITS, p2p_limit's names in p2pnode.h ('dial_timeout_ms',
        'max_frame_size', 'overflow_policy', ...); 0 restores the default.
        overflow_policy also takes a name of p2pnode._native.OVERFLOW_POLICIES
        ('wait', 'drop_newest', 'drop_oldest', 'disconnect'). Only before
        start(), except max_connections. Raises P2PError (P2P_ESTATE once
        started, P2P_EINVAL for a value the library cannot hold).
        """
        code, v = _n.limit_code(name, value)
        _n.check(_n.lib.p2p_node_set_limit(self._p2p_node, code, v), "p2p_node_set_limit")

    def get_limit(self, name: str) -> int:
        """The value of a limit (see set_limit), defaults filled in."""
        value, code = ctypes.c_int64(), _n.limit_code(name)[0]
        _n.check(_n.lib.p2p_node_get_limit(self._p2p_node, code, ctypes.byref(value)),
                 "p2p_node_get_limit")
        return value.value

    def counters(self, node: Any = None) -> dict:
        """The node's counters (p2pnode only), or with node (a NodeConnection
        of this node) that peer's: a dict of p2p_counters' fields - accepted,
        written, queued, dropped_overflow, dropped_link_lost, dropped_stop,
        refused, ... (see p2p_counters in p2pnode.h). Delivery is at most once
        per link, in order; accepted == written + the drops + queued."""
        c = _n.sized(_n.P2PStats)
        if node is None:
            _n.check(_n.lib.p2p_node_stats(self._p2p_node, ctypes.byref(c)), "p2p_node_stats")
        else:
            _n.check(_n.lib.p2p_peer_stats(self._p2p_node, node._p2p_handle, ctypes.byref(c)),
                     "p2p_peer_stats")
        return _n.as_dict(c)

    message_count_send = property(lambda self: self._p2p_count(0),
                                  lambda self, v: self._p2p_set_count(0, v),
                                  doc="Messages sent: accepted for peers (a broadcast counts once "
                                      "per peer); see counters().")
    message_count_recv = property(lambda self: self._p2p_count(1),
                                  lambda self, v: self._p2p_set_count(1, v),
                                  doc="Messages received.")
    message_count_rerr = property(lambda self: self._p2p_count(2),
                                  lambda self, v: self._p2p_set_count(2, v),
                                  doc="Received frames that were undecodable or over a limit.")

    @property
    def nodes_inbound(self) -> List[NodeConnection]:
        """The peers that connected with us (a new list on every read)."""
        return self._p2p_peers(_n.P2P_INBOUND)

    @property
    def nodes_outbound(self) -> List[NodeConnection]:
        """The peers we connected with (a new list on every read)."""
        return self._p2p_peers(_n.P2P_OUTBOUND)

    @property
    def all_nodes(self) -> List[NodeConnection]:
        """Every peer, inbound then outbound."""
        return self._p2p_peers(_n.P2P_ALL)

    def _p2p_peers(self, direction: int) -> List[NodeConnection]:
        if self._p2p_freed:
            return []
        conns = map(self._p2p_connection, _n.peer_handles(self._p2p_node, direction))
        return [c for c in conns if c is not None]

    def _p2p_connection(self, handle: int, ev: Optional[Event] = None) -> Optional[NodeConnection]:
        """The NodeConnection of a peer handle, made on first sight."""
        with self._p2p_lock:
            conn = self._p2p_conns.get(handle)
            if conn is not None:
                return conn
            if ev is not None:
                facts: Optional[_n.PeerFacts] = (ev.peer_id, ev.peer_host, ev.peer_port,
                                                 ev.direction)
            else:
                facts = None if handle in self._p2p_gone else _n.peer_facts(self._p2p_node, handle)
            if facts is None:
                return None
            pid, host, port, direction = facts
            self._p2p_creating = (handle, direction)
            try:
                try:
                    conn = self.create_new_connection(None, pid, host, port)
                except Exception:
                    self._p2p_report("create_new_connection")
                    conn = NodeConnection(self, None, pid, host, port)
            finally:
                self._p2p_creating = None
            conn._p2p_handle = handle
            conn._p2p_direction = direction
            # What the connection's class overrides, looked up once.
            cls = type(conn)
            # parse_packet calls decompress: an override of either takes every packet.
            own_parse = (getattr(cls, "parse_packet", NodeConnection.parse_packet)
                         is not NodeConnection.parse_packet
                         or getattr(cls, "decompress", NodeConnection.decompress)
                         is not NodeConnection.decompress)
            conn._p2p_parser = conn.parse_packet if own_parse else None
            own_send = getattr(cls, "send", NodeConnection.send) is not NodeConnection.send
            conn._p2p_own_send = own_send
            if conn._p2p_own_send:
                self._p2p_send_overrides += 1
            self._p2p_conns[handle] = conn
            return conn

    def _p2p_owns(self, node: Any) -> bool:
        return isinstance(node, NodeConnection) and node.main_node is self and node._p2p_handle != 0

    # ---- methods of the reference ----------------------------------------------------

    def debug_print(self, message: str) -> None:
        """Print "DEBUG (<id>): message" when debug is on."""
        if self.debug:
            print("DEBUG (" + self.id + "): " + str(message))

    def generate_id(self) -> str:
        """A new node id as p2pnetwork makes one: the SHA-512 (hex) of host, port
        and a random number. The library makes the node's own id the same way;
        a subclass that overrides this gets its ids used, as in p2pnetwork."""
        id = hashlib.sha512()
        t = str(self.host) + str(self.port) + str(random.randint(1, 99999999))
        id.update(t.encode("ascii", "replace"))
        return id.hexdigest()

    def init_server(self) -> None:
        """p2pnetwork's server set-up. Here the library binds and listens when the
        node is made (sock stays None), so this only prints p2pnetwork's line
        as a debug line; a subclass's override is called from __init__, after
        the node is bound, as p2pnetwork calls it."""
        self.debug_print("Initialisation of the Node on port: " + str(self.port)
                         + " on node (" + self.id + ")")

    def print_connections(self) -> None:
        """Print how many inbound and outbound peers the node has."""
        print("Node connection overview:")
        print("- Total nodes connected with us: %d" % len(self.nodes_inbound))
        print("- Total nodes connected to     : %d" % len(self.nodes_outbound))

    def send_to_nodes(self, data: Any, exclude: Any = [],  # noqa: B006 (the reference's default)
                      compression: str = "none") -> None:
        """Send data (str, dict as JSON, or bytes) to every peer but those in exclude.

        The message is encoded once and handed to the library in one call,
        unless a peer's NodeConnection class overrides send(): then send()
        is called for each peer the node has announced (connected event),
        as p2pnetwork does. An unknown compression sends nothing (a debug
        line and a RuntimeWarning, as NodeConnection.send). Raises TypeError
        or P2PError as NodeConnection.send.
        """
        payload = encode_payload(data)
        code = _n.COMPRESSIONS.get(compression) if type(compression) is str else None
        if code is None:
            unknown_compression(self, "send_to_nodes", compression)
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
        handles = [n._p2p_handle for n in exclude if self._p2p_owns(n)]
        arr = (ctypes.c_uint64 * len(handles))(*handles) if handles else None
        rc = _n.lib.p2p_node_broadcast(self._p2p_node, payload, len(payload), arr, len(handles),
                                       code)
        if rc == _n.P2P_OK:
            return
        err = _n.error(rc, "p2p_node_broadcast")
        if rc in GONE_CODES:
            self.debug_print("Node send_to_nodes: " + err.message)
            return
        raise err

    def send_to_node(self, n: Any, data: Any, compression: str = "none") -> None:
        """Send data to the peer n (a NodeConnection of this node).

        An unknown or disconnected n is not an error: as in p2pnetwork a
        debug line says so. An unknown compression sends nothing (see
        NodeConnection.send).
        """
        encode_payload(data)
        if not self._p2p_owns(n) or not n.is_alive():
            self.debug_print("Node send_to_node: Could not send the data, node is not found!")
            return
        n.send(data, compression=compression)

    def send_batch_to_node(self, n: Any, messages: Any, compression: str = "none") -> int:
        """Send many messages to the peer n, in order, with one call (p2pnode only).

        See NodeConnection.send_batch; returns how many were queued. An
        unknown or disconnected n gets a debug line, as send_to_node does.
        """
        if not self._p2p_owns(n) or not n.is_alive():
            self.debug_print("Node send_batch_to_node: Could not send the data, node is not found!")
            return 0
        return n.send_batch(messages, compression=compression)

    def connect_with_node(self, host: str, port: int, reconnect: bool = False) -> bool:
        """Connect with the node at host:port; True when connected.

        Returns True also when already connected with it, and False (with
        a printed line) when host:port is this node, and False when the
        connection fails. With reconnect the node re-dials the peer whenever
        the connection is lost, asking node_reconnection_error first.
        Blocks for the dial and the id exchange.
        """
        peer = ctypes.c_uint64(0)
        try:
            chost = _n.encode_str(host)
            cport = c_int(port, "port")
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
        if rc == _n.P2P_ESELF:
            print("connect_with_node: Cannot connect with yourself!!")
            return False
        if rc == _n.P2P_EALREADY:
            conn = self._p2p_connection(peer.value) if peer.value else None
            if conn is not None and conn._p2p_direction == _n.P2P_INBOUND:
                print("connect_with_node: This node (" + conn.id
                      + ") is already connected with us.")
            else:
                pid = conn.id if conn is not None else ""
                print("connect_with_node: Already connected with this node (" + pid + ").")
            return True
        if rc == _n.P2P_ESTATE:
            print("connect_with_node: the node is not started; call start() first")
            return False
        self.debug_print("TcpServer.connect_with_node: Could not connect with node. ("
                         + err.message + ")")
        return False

    def disconnect_with_node(self, node: Any) -> None:
        """Close the connection with an outbound peer.

        node_disconnect_with_outbound_node is called first (before this
        returns, unless called from an event method), then the disconnected
        event follows. The peer is no longer reconnected. A node that is not
        one of our outbound peers gets a debug line, as in p2pnetwork.
        """
        if (self._p2p_owns(node) and node._p2p_direction == _n.P2P_OUTBOUND
                and node._p2p_disconnect()):
            self._p2p_forget_reconnect(node.host, node.port)
            return
        self.debug_print("Node disconnect_with_node: cannot disconnect with a node with which "
                         "we are not connected.")

    def reconnect_nodes(self) -> None:
        """p2pnetwork's reconnection check, for a program that calls it: for each
        entry of reconnect_to_nodes without an outbound peer at its host and
        port, node_reconnection_error is asked and, on True, connect_with_node
        is called; on False the entry is removed. The node itself needs no
        call: the library re-dials lost peers (asking node_reconnection_error)."""
        outbound = self.nodes_outbound
        for entry in list(self.reconnect_to_nodes):
            host, port = entry["host"], entry["port"]
            self.debug_print("reconnect_nodes: Checking node " + str(host) + ":" + str(port))
            if any(n.host == host and n.port == port for n in outbound):
                entry["trials"] = 0
                self.debug_print("reconnect_nodes: Node " + str(host) + ":" + str(port)
                                 + " still running!")
                continue
            entry["trials"] = entry.get("trials", 0) + 1
            if self.node_reconnection_error(host, port, entry["trials"]):
                self.connect_with_node(host, port)
            else:
                self.debug_print("reconnect_nodes: Removing node (" + str(host) + ":" + str(port)
                                 + ") from the reconnection list!")
                self._p2p_forget_reconnect(host, port)

    def _p2p_forget_reconnect(self, host: Any, port: Any) -> None:
        self.reconnect_to_nodes[:] = [e for e in self.reconnect_to_nodes
                                      if not (e.get("host") == host and e.get("port") == port)]

    def create_new_connection(self, connection: Any, id: str, host: str,
                              port: int) -> NodeConnection:
        """Make the NodeConnection of a new peer; override to use a subclass.

        connection is always None: the library owns the socket (p2pnetwork
        passes the socket here). Call ``MyConnection(self, connection, id,
        host, port)``; the node tells the new object its peer handle.
        """
        return NodeConnection(self, connection, id, host, port)

    # ---- life --------------------------------------------------------------------

    def start(self) -> None:
        """Start accepting connections and delivering events (on this node's thread)."""
        with self._p2p_lock:
            if self._p2p_started:
                raise RuntimeError("threads can only be started once")
            if not self._p2p_freed:
                _n.check(_n.lib.p2p_node_start(self._p2p_node), "p2p_node_start")
            self._p2p_started = True
        super().start()

    def stop(self) -> None:
        """Ask the node to stop and return, as p2pnetwork's stop does.

        node_request_to_stop is called here, on the calling thread (the
        peers are still connected: a last chance to send), then the node
        closes every peer after flushing what is queued for it, and its
        thread delivers their disconnected events and ends; join() waits
        for that. So nodes stopped in a row all raise node_request_to_stop
        before any disconnected event, as in p2pnetwork. Idempotent (the
        event is raised once). close() is the blocking stop.
        """
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
        """Stop the node, wait until it is down and free it (blocking). Idempotent.

        From the node's own thread (an event method) it only asks, as stop().
        """
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
            self._p2p_debug = self.debug
            self._p2p_freed = True
            for conn in self._p2p_conns.values():
                conn._p2p_gone()
        _n.lib.p2p_node_free(self._p2p_node)

    def run(self) -> None:
        """The node's thread: take events from the library and deliver them."""
        events = (_n.P2PEv * _BATCH)()
        count = ctypes.c_size_t(0)
        data = ctypes.c_void_p()
        size = ctypes.c_size_t(0)
        poll, stride = _n.lib.p2p_node_next, ctypes.sizeof(_n.P2PEv)
        try:
            while not self._p2p_freed:
                events[0].size = stride  # P2P_INIT: the array's stride
                rc = poll(self._p2p_node, events, _BATCH, _POLL_WAIT, ctypes.byref(count),
                          ctypes.byref(data), ctypes.byref(size))
                if rc in (_n.P2P_ESTOPPED, _n.P2P_EHANDLE):
                    break
                if rc != _n.P2P_OK:
                    err = _n.error(rc, "p2p_node_next")
                    print("p2pnode: %r stops delivering events: %s" % (self, err), file=sys.stderr)
                    break
                if count.value:
                    self._p2p_deliver(events, count.value, data.value or 0, size.value)
        finally:
            self._p2p_free()

    def _p2p_deliver(self, events: Any, count: int, base: int, size: int) -> None:
        """Deliver a polled batch, in order: runs of messages from one peer go to
        node_message_batch, every other event to its method.

        The batch is read in bulk: the event array with one iter_unpack and
        the payloads (back to back from base) with one copy.
        """
        # Copy everything out first: a callback may poll (stop) and reuse the memory.
        blob = ctypes.string_at(base, size) if size else b""
        raw = ctypes.string_at(ctypes.addressof(events), count * EVENT.size)
        message = _n.P2P_EVENT_MESSAGE
        T, K, P, C = F["type"], F["kind"], F["peer"], F["compression"]
        D, N = F["data"], F["data_len"]
        fields = list(EVENT.iter_unpack(raw))
        first: Dict[int, Event] = {}  # each peer's first message, for a NodeConnection made late
        conns = self._p2p_conns
        run_peer, run_conn, parse = 0, None, None
        run: Any = None
        for i, f in enumerate(fields):
            if f[T] != message:
                if run:
                    self._p2p_call(self.node_message_batch, run_conn, run)
                    run = None
                self._p2p_dispatch(Event(events[i]))
                continue
            if run is None or f[P] != run_peer:
                if run:
                    self._p2p_call(self.node_message_batch, run_conn, run)
                run_peer, run = f[P], []
                run_conn = conns.get(run_peer)
                if run_conn is None:
                    if run_peer not in first:
                        first[run_peer] = Event(events[i])
                    run_conn = self._p2p_connection(run_peer, first[run_peer])
                parse = run_conn._p2p_parser if run_conn is not None else None
            if run_conn is None:
                continue
            off = f[D] - base
            payload = blob[off:off + f[N]]
            if parse is None:
                run.append(decode_payload(f[K], payload))
                continue
            try:  # a subclass's parse_packet
                run.append(parse(wire_packet(payload, f[C])))
            except BaseException:
                self._p2p_report("parse_packet")
        if run:
            self._p2p_call(self.node_message_batch, run_conn, run)

    # ---- events -------------------------------------------------------------------------

    def _p2p_report(self, where: str) -> None:
        print("p2pnode: exception in %s of %r (the node goes on):" % (where, self), file=sys.stderr)
        traceback.print_exc(file=sys.stderr)

    def _p2p_call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except BaseException:
            self._p2p_report(getattr(method, "__name__", "an event method"))
            return None

    def _p2p_dispatch(self, ev: Event) -> None:
        t = ev.type
        if t == _n.P2P_EVENT_RECONNECTION_ERROR:
            answer = True
            try:
                answer = bool(self.node_reconnection_error(ev.host, ev.port, ev.trials))
            except BaseException:
                self._p2p_report("node_reconnection_error")
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
        conn = self._p2p_connection(ev.peer, ev)
        if conn is None:
            return
        if t == _n.P2P_EVENT_MESSAGE:
            if conn._p2p_parser is not None:
                try:
                    value = conn._p2p_parser(wire_packet(ev.data, ev.compression))
                except BaseException:
                    self._p2p_report("parse_packet")
                    return
            else:
                value = decode_payload(ev.kind, ev.data)
            self._p2p_call(self.node_message, conn, value)
        elif t in _PLAIN:  # the method p2p_event_name names: outbound_node_connected...
            self._p2p_call(getattr(self, _n.lib.p2p_event_name(t).decode("ascii")), conn)
        elif t in (_n.P2P_EVENT_OUTBOUND_DISCONNECTED, _n.P2P_EVENT_INBOUND_DISCONNECTED):
            with self._p2p_lock:
                if self._p2p_conns.pop(ev.peer, None) is not None and conn._p2p_own_send:
                    self._p2p_send_overrides -= 1
                self._p2p_gone.add(ev.peer)
            conn.terminate_flag.set()
            # What was accepted for the peer and never written to it.
            conn.dropped, conn.dropped_bytes = ev.dropped, ev.dropped_bytes
            self._p2p_call(self.node_disconnected, conn)
            conn._p2p_gone()
        else:
            self._p2p_dispatch_more(conn, ev)

    def _p2p_dispatch_more(self, conn: NodeConnection, ev: Event) -> None:
        """Events only other kinds of node raise (SecureNode)."""

    # The event methods of the reference; override them, or pass a callback.

    def outbound_node_connected(self, node: NodeConnection) -> None:
        """We connected with node."""
        self.debug_print("outbound_node_connected: " + node.id)
        if self.callback is not None:
            self.callback("outbound_node_connected", self, node, {})

    def inbound_node_connected(self, node: NodeConnection) -> None:
        """node connected with us."""
        self.debug_print("inbound_node_connected: " + node.id)
        if self.callback is not None:
            self.callback("inbound_node_connected", self, node, {})

    def node_disconnected(self, node: NodeConnection) -> None:
        """node is disconnected: calls inbound_ or outbound_node_disconnected.

        node.dropped and node.dropped_bytes (p2pnode only) are then set: the
        messages accepted for the peer that were never written to it, and
        their bytes; self.counters(node) says why (while in this method).
        """
        self.debug_print("node_disconnected: " + node.id)
        if node._p2p_direction == _n.P2P_INBOUND:
            self.inbound_node_disconnected(node)
        else:
            self.outbound_node_disconnected(node)

    def inbound_node_disconnected(self, node: NodeConnection) -> None:
        """node, which had connected with us, is disconnected."""
        self.debug_print("inbound_node_disconnected: " + node.id)
        if self.callback is not None:
            self.callback("inbound_node_disconnected", self, node, {})

    def outbound_node_disconnected(self, node: NodeConnection) -> None:
        """node, which we had connected with, is disconnected."""
        self.debug_print("outbound_node_disconnected: " + node.id)
        if self.callback is not None:
            self.callback("outbound_node_disconnected", self, node, {})

    def node_message(self, node: NodeConnection, data: Any) -> None:
        """node sent data: a JSON value (dict, list, number...), a str or bytes."""
        self.debug_print("node_message: " + node.id + ": " + str(data))
        if self.callback is not None:
            self.callback("node_message", self, node, data)

    def node_message_batch(self, node: NodeConnection, messages: List[Any]) -> None:
        """node sent these messages, in order (p2pnode only).

        The node hands over received messages in runs from one peer; the
        default calls node_message for each (an exception in one is
        reported and the others still go). Override it to take a whole run
        at once, which costs far less per message. The values are those
        node_message gets.
        """
        call, method = self._p2p_call, self.node_message
        for data in messages:
            call(method, node, data)

    def node_disconnect_with_outbound_node(self, node: NodeConnection) -> None:
        """We asked to disconnect from the outbound node (it is still connected)."""
        self.debug_print("node wants to disconnect with oher outbound node: " + node.id)
        if self.callback is not None:
            self.callback("node_disconnect_with_outbound_node", self, node, {})

    def node_request_to_stop(self) -> None:
        """The node is stopping; its peers are still connected (a last chance to send)."""
        self.debug_print("node is requested to stop!")
        if self.callback is not None:
            self.callback("node_request_to_stop", self, {}, {})

    def node_reconnection_error(self, host: str, port: int, trials: int) -> bool:
        """A lost peer connected with reconnect=True: return True to dial it again.

        trials counts the attempts so far, from 1. The default keeps trying.
        """
        self.debug_print("node_reconnection_error: Reconnecting to node " + host + ":" + str(port)
                         + " (trials: " + str(trials) + ")")
        return True

    def __str__(self) -> str:
        return "Node: {}:{}".format(getattr(self, "host", "?"), getattr(self, "port", "?"))

    def __repr__(self) -> str:
        return "<Node {}:{} id: {}>".format(getattr(self, "host", "?"), getattr(self, "port", "?"),
                                            getattr(self, "id", "?"))
