"""NodeConnection: one peer of a Node, as p2pnetwork.nodeconnection has it.

In p2pnetwork a NodeConnection is a thread that owns the peer's socket. Here
the library owns the connection (its reader, writer and queue); a
NodeConnection is a small Python object naming the peer by its handle, made
by :meth:`p2pnode.node.Node.create_new_connection` when the peer shows up::

    def node_message(self, node, data):
        node.send({"echo": data})          # node is a NodeConnection
"""

from __future__ import annotations

import base64
import bz2
import ctypes
import json
import lzma
import threading
import zlib
from typing import Any, Callable, Dict, Optional, Protocol

from . import _native as _n
from ._codec import (GONE_CODES, compression_code, encode_batch, encode_payload, inflate,
                     unknown_compression, wire_packet)
from ._codec import compressed as _compressed

__all__ = ["NodeConnection", "GONE_CODES", "encode_payload", "encode_batch", "wire_packet",
           "compression_code", "unknown_compression"]


class _Owner(Protocol):
    """What a NodeConnection needs of its Node (node.py imports this module, not the reverse)."""

    _p2p_node: Optional[int]
    host: str
    port: int

    def debug_print(self, message: str) -> None: ...

    def get_limit(self, name: str) -> int: ...


class NodeConnection(threading.Thread):
    """A peer connected with a Node (inbound or outbound).

    Mirrors p2pnetwork.nodeconnection.NodeConnection: ``id``, ``host``,
    ``port``, ``main_node``, ``info``, ``send()``, ``stop()``,
    ``set_info()``/``get_info()``. Subclass it and return your subclass from
    ``Node.create_new_connection`` to add behaviour.

    ``sock`` is always None: the library owns the TCP connection and no
    Python socket exists for it. As in p2pnetwork it is a threading.Thread
    (name, daemon, ...), but one that never runs: ``start()`` and ``run()``
    do nothing (the library reads the connection); ``join()`` waits until
    the peer's disconnected event has been delivered and ``is_alive()``
    tells whether it has not.

    ``compress``, ``decompress`` and ``parse_packet`` are p2pnetwork's
    (same bytes in, same bytes out). A subclass that overrides
    ``parse_packet`` gets every packet received from the peer (the frame
    without its EOT, see :func:`wire_packet`) and what it returns reaches
    ``node_message``; without an override the library's decoding is used.

    Two NodeConnection objects are equal when they name the same peer
    handle of the same node; they hash alike.
    """

    EOT_CHAR = 0x04.to_bytes(1, "big")
    COMPR_CHAR = 0x02.to_bytes(1, "big")

    def __init__(self, main_node: _Owner, sock: Any, id: Any, host: str, port: int) -> None:
        """Made by Node.create_new_connection(sock, id, host, port).

        main_node: the Node this peer is connected with.
        sock: always None here (see the class documentation).
        id: the peer's node id.
        host: the peer's address.
        port: the peer's listening port.
        """
        # The node announces the handle of the peer being made (set before
        # Thread.__init__, which hashes the object).
        pending = getattr(main_node, "_p2p_creating", None)
        self._p2p_handle: int = pending[0] if pending else 0
        self._p2p_direction: Optional[int] = pending[1] if pending else None
        self.main_node = main_node
        super().__init__()
        self.host = host
        self.port = port
        self.sock = sock
        self.id = str(id)
        self.info: Dict[Any, Any] = {}
        self.terminate_flag = threading.Event()
        self._p2p_closed = threading.Event()
        # Set by the node: a subclass's parse_packet (or None) and whether it overrides send.
        self._p2p_parser: Optional[Callable[[bytes], Any]] = None
        self._p2p_own_send = False
        #: Set at the disconnected event: accepted messages never written to the peer, their bytes.
        self.dropped = 0
        self.dropped_bytes = 0

    # ---- identity -----------------------------------------------------------------

    @property
    def handle(self) -> int:
        """The library's handle of this peer (0 if not made by a node)."""
        return self._p2p_handle

    @property
    def direction(self) -> Optional[str]:
        """'inbound' (the peer connected with us) or 'outbound' (we connected)."""
        if self._p2p_direction == _n.P2P_INBOUND:
            return "inbound"
        if self._p2p_direction == _n.P2P_OUTBOUND:
            return "outbound"
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NodeConnection):
            return NotImplemented
        if self._p2p_handle == 0 or other._p2p_handle == 0:
            return self is other
        return self.main_node is other.main_node and self._p2p_handle == other._p2p_handle

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        if self._p2p_handle == 0:
            return object.__hash__(self)
        return hash((id(self.main_node), self._p2p_handle))

    # ---- messages --------------------------------------------------------------------

    def send(self, data: Any, encoding_type: str = "utf-8", compression: str = "none") -> None:
        """Send data to this peer: a str, a dict (as JSON) or bytes.

        compression is 'none', 'zlib', 'bzip2' or 'lzma'; with another one
        nothing is sent, as in p2pnetwork (a debug line, and a
        RuntimeWarning through warnings.warn). Raises TypeError for another
        type of data and P2PError when the library refuses the message (too
        big, queue full). A peer that has gone away is not an error: as in
        p2pnetwork the message is dropped with a debug line.
        """
        payload = encode_payload(data, encoding_type)
        node = self.main_node
        code = _n.COMPRESSIONS.get(compression) if type(compression) is str else None
        if code is None:
            unknown_compression(node, self.id, compression)
            return
        rc = _n.lib.p2p_node_send(node._p2p_node, self._p2p_handle, payload, len(payload), code)
        if rc == _n.P2P_OK:
            return
        err = _n.error(rc, "p2p_node_send")
        if rc in GONE_CODES:
            node.debug_print("nodeconnection send: Error sending data to node: " + err.message)
            return
        raise err

    def send_batch(self, messages: Any, encoding_type: str = "utf-8",
                   compression: str = "none") -> int:
        """Send many messages to this peer, in order, with one call into the library.

        messages is a list (or any iterable) of what send() takes: str,
        dict or bytes. The effect is that of calling send() for each, at a
        fraction of the cost per message (p2pnode only; lists of bytes are
        the fastest). When the peer's queue is full this waits for room as
        send() does. Returns how many messages were queued: all of them,
        or, when the peer has gone away (dropped with a debug line, as
        send() does), those before. Raises as send() does; the P2PError's
        ``sent`` then tells how many were queued before the failing one.
        """
        data, lens = encode_batch(messages, encoding_type)
        code = compression_code(compression)
        count = len(lens)
        if count == 0:
            return 0
        node = self.main_node
        sent, lens_c = ctypes.c_size_t(0), (ctypes.c_size_t * count).from_buffer(lens)
        rc = _n.lib.p2p_node_send_batch(node._p2p_node, self._p2p_handle, data, lens_c, count,
                                        code, ctypes.byref(sent))
        if rc == _n.P2P_OK:
            return count
        err = _n.error(rc, "p2p_node_send_batch")
        if rc in GONE_CODES:
            node.debug_print("nodeconnection send_batch: Error sending data to node: "
                             + err.message)
            return sent.value
        err.sent = sent.value  # how many were queued before the one that failed
        raise err

    def stop(self) -> None:
        """Close the connection with this peer (after flushing what is queued).

        The disconnected event follows. For an outbound peer the library
        raises node_disconnect_with_outbound_node first and stops
        reconnecting to it (p2pnetwork does neither when a NodeConnection is
        stopped directly).
        """
        self._p2p_disconnect()

    def _p2p_disconnect(self) -> bool:
        """p2p_node_disconnect: True when done, False when the peer was gone already."""
        self.terminate_flag.set()
        rc = _n.lib.p2p_node_disconnect(self.main_node._p2p_node, self._p2p_handle)
        if rc not in (_n.P2P_OK,) + GONE_CODES:
            raise _n.error(rc, "p2p_node_disconnect")
        return rc == _n.P2P_OK

    # ---- p2pnetwork's packet functions ---------------------------------------------------

    def compress(self, data: bytes, compression: str) -> Optional[bytes]:
        """p2pnetwork's compress: base64(codec(data) + tag) for 'zlib', 'bzip2' or
        'lzma', byte for byte what p2pnetwork gives; None (and a debug line) for
        another compression. A sender adds COMPR_CHAR and EOT to it."""
        node = self.main_node
        node.debug_print(self.id + ":compress:" + str(compression))
        node.debug_print(self.id + ":compress:input: " + str(data))
        compressed = data
        try:
            if compression in ("zlib", "bzip2", "lzma"):
                compressed = _compressed(data, compression)
            else:
                node.debug_print(self.id + ":compress:Unknown compression")
                return None
        except Exception as e:
            node.debug_print("compress: exception: " + str(e))
        node.debug_print(self.id + ":compress:b64encode:" + str(compressed))
        if data:
            node.debug_print(self.id + ":compress:compression:"
                             + str(int(10000 * len(compressed) / len(data)) / 100) + "%")
        return compressed

    def decompress(self, compressed: bytes) -> bytes:
        """p2pnetwork's decompress: base64-decodes compressed and undoes the codec its
        tag names. As there, bytes without a known tag come back base64-decoded,
        and a codec error is printed ("Exception: ...") with the decoded bytes
        returned; unlike there, output over the node's max_decompressed_size
        limit is such an error (no decompression bomb)."""
        node = self.main_node
        node.debug_print(self.id + ":decompress:input: " + str(compressed))
        compressed = base64.b64decode(compressed)
        node.debug_print(self.id + ":decompress:b64decode: " + str(compressed))
        try:
            if compressed[-4:] == b"zlib":
                compressed = inflate(zlib.decompressobj(), compressed[:-4], self._p2p_limit())
            elif compressed[-5:] == b"bzip2":
                compressed = inflate(bz2.BZ2Decompressor(), compressed[:-5], self._p2p_limit())
            elif compressed[-4:] == b"lzma":
                compressed = inflate(lzma.LZMADecompressor(), compressed[:-4], self._p2p_limit())
        except Exception as e:
            print("Exception: " + str(e))
        node.debug_print(self.id + ":decompress:result: " + str(compressed))
        return compressed

    def _p2p_limit(self) -> int:
        try:
            return int(self.main_node.get_limit("max_decompressed_size"))
        except Exception:  # a node that is gone: the library's default
            return 64 << 20

    def parse_packet(self, packet: bytes) -> Any:
        """p2pnetwork's parse_packet: a packet (a frame without its EOT) as the value
        node_message gets: decompressed when its first COMPR_CHAR is its last
        byte, then JSON if it parses, else text, else bytes."""
        if packet.find(self.COMPR_CHAR) == len(packet) - 1:
            packet = self.decompress(packet[0:-1])
        try:
            packet_decoded = packet.decode("utf-8")
            try:
                return json.loads(packet_decoded)
            except json.decoder.JSONDecodeError:
                return packet_decoded
        except UnicodeDecodeError:
            return packet

    # ---- thread look-alike -------------------------------------------------------------

    def start(self) -> None:
        """Does nothing: the library runs the connection (kept for p2pnetwork code)."""

    def run(self) -> None:
        """Does nothing: the library reads the connection (p2pnetwork's loop is there)."""

    def join(self, timeout: Optional[float] = None) -> None:
        """Wait until this peer's disconnected event has been delivered."""
        self._p2p_closed.wait(timeout)

    def is_alive(self) -> bool:
        """True until this peer's disconnected event has been delivered."""
        return not self._p2p_closed.is_set()

    def _p2p_gone(self) -> None:
        self.terminate_flag.set()
        self._p2p_closed.set()

    # ---- info ---------------------------------------------------------------------

    def set_info(self, key: Any, value: Any) -> None:
        """Store any Python value under key, for this peer."""
        self.info[key] = value

    def get_info(self, key: Any) -> Any:
        """The value stored under key with set_info.

        A key not set from Python is looked up in the library's store of the
        peer (values the library itself sets there), returned as a str when
        it is UTF-8 text, else as bytes; the secure node's "ping" (the
        latency in seconds) as a float. Raises KeyError when neither has it.
        """
        if key in self.info:
            return self.info[key]
        if isinstance(key, str) and self._p2p_handle:
            value = self._p2p_native_info(key)
            if value is not None:
                return value
        raise KeyError(key)

    def _p2p_native_info(self, key: str) -> Optional[Any]:
        try:
            ckey = _n.encode_str(key)
        except ValueError:
            return None
        node = self.main_node._p2p_node
        if key == "ping":  # the secure node's latency: seconds, as the reference's float
            seconds = ctypes.c_double()
            if _n.lib.p2p_peer_ping(node, self._p2p_handle, ctypes.byref(seconds)) == _n.P2P_OK:
                return seconds.value
        rc, raw = _n.take("p2p_peer_get_info_buf", node, self._p2p_handle, ckey)
        if rc != _n.P2P_OK:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw

    # ---- text ----------------------------------------------------------------------

    def __str__(self) -> str:
        return "NodeConnection: {}:{} <-> {}:{} ({})".format(
            self.main_node.host, self.main_node.port, self.host, self.port, self.id)

    def __repr__(self) -> str:
        return "<NodeConnection: Node {}:{} <-> Connection {}:{}>".format(
            self.main_node.host, self.main_node.port, self.host, self.port)
