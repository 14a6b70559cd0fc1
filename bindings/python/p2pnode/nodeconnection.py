"""NodeConnection: one peer of a Node, as p2pnetwork.nodeconnection has it.

The library owns the connection; a NodeConnection names the peer by its handle
(see the README for what differs from p2pnetwork's thread-per-socket).
"""

from __future__ import annotations

import base64
import bz2
import ctypes
import json
import lzma
import threading
import zlib
from typing import Any, Callable, Dict, Optional

from . import _native as _n
from ._codec import (GONE_CODES, compression_code, encode_batch, encode_payload, inflate,
                     send_code, sent)
from ._codec import compressed as _compressed

__all__ = ["NodeConnection"]


class NodeConnection(_n.NativePeer, threading.Thread):
    """A peer connected with a Node; a Thread that never runs (the library reads the socket).

    Equal (and hashed alike) when naming the same peer handle of the same node.
    """

    EOT_CHAR = 0x04.to_bytes(1, "big")
    COMPR_CHAR = 0x02.to_bytes(1, "big")

    def __init__(self, main_node: Any, sock: Any, id: Any, host: str, port: int) -> None:
        """Made by Node.create_new_connection(sock, id, host, port); sock is always None."""
        # The node announces the handle of the peer being made (before Thread.__init__ hashes us).
        pending = getattr(main_node, "_p2p_creating", None)
        self._p2p_handle: int = pending[0] if pending else 0
        self._p2p_direction: Optional[int] = pending[1] if pending else None
        self.main_node = main_node
        super().__init__()
        self.host, self.port, self.sock, self.id = host, port, sock, str(id)
        self.info: Dict[Any, Any] = {}
        self.terminate_flag = threading.Event()
        self._p2p_closed = threading.Event()
        self._p2p_parser: Optional[Callable[[bytes], Any]] = None  # set by the node: an override
        self._p2p_own_send = False  # set by the node: the class overrides send()
        #: Set at the disconnected event: accepted messages never written to the peer, their bytes.
        self.dropped = self.dropped_bytes = 0

    @property
    def direction(self) -> Optional[str]:
        """'inbound' (the peer connected with us), 'outbound' (we connected) or None."""
        return {_n.P2P_INBOUND: "inbound", _n.P2P_OUTBOUND: "outbound"}.get(
            self._p2p_direction)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NodeConnection):
            return NotImplemented
        if self._p2p_handle == 0 or other._p2p_handle == 0:
            return self is other
        return self.main_node is other.main_node and self._p2p_handle == other._p2p_handle

    def __hash__(self) -> int:
        if self._p2p_handle == 0:
            return object.__hash__(self)
        return hash((id(self.main_node), self._p2p_handle))

    def send(self, data: Any, encoding_type: str = "utf-8", compression: str = "none") -> None:
        """Send a str, a dict (as JSON) or bytes; an unknown compression sends nothing."""
        payload = encode_payload(data, encoding_type)
        code = send_code(self.main_node, self.id, compression)
        if code is not None:
            rc = _n.lib.p2p_node_send(self.main_node._p2p_node, self._p2p_handle, payload,
                                      len(payload), code)
            sent(self.main_node, rc, "p2p_node_send", "nodeconnection send: Error sending data "
                 "to node: ")

    def send_batch(self, messages: Any, encoding_type: str = "utf-8",
                   compression: str = "none") -> int:
        """Send many messages in order with one library call; how many were queued (p2pnode only).

        A failure raises P2PError whose ``sent`` tells how many were queued before it.
        """
        data, lens_c, count = encode_batch(messages, encoding_type)
        code, queued = compression_code(compression), ctypes.c_size_t(0)
        if count == 0:
            return 0
        rc = _n.lib.p2p_node_send_batch(self.main_node._p2p_node, self._p2p_handle, data, lens_c,
                                        count, code, ctypes.byref(queued))
        try:
            return count if sent(self.main_node, rc, "p2p_node_send_batch", "nodeconnection "
                                 "send_batch: Error sending data to node: ") else queued.value
        except _n.P2PError as err:
            err.sent = queued.value
            raise

    def stop(self) -> None:
        """Close the connection after flushing what is queued; the disconnected event follows."""
        self._p2p_disconnect()

    def _p2p_disconnect(self) -> bool:
        """p2p_node_disconnect: True when done, False when the peer was gone already."""
        self.terminate_flag.set()
        rc = _n.lib.p2p_node_disconnect(self.main_node._p2p_node, self._p2p_handle)
        if rc not in (_n.P2P_OK,) + GONE_CODES:
            raise _n.error(rc, "p2p_node_disconnect")
        return rc == _n.P2P_OK

    def compress(self, data: bytes, compression: str) -> Optional[bytes]:
        """p2pnetwork's compress: base64(codec(data) + tag); None for an unknown compression."""
        node = self.main_node
        node.debug_print(self.id + ":compress:" + str(compression))
        node.debug_print(self.id + ":compress:input: " + str(data))
        if compression not in ("zlib", "bzip2", "lzma"):
            node.debug_print(self.id + ":compress:Unknown compression")
            return None
        result = data
        try:
            result = _compressed(data, compression)
        except Exception as e:
            node.debug_print("compress: exception: " + str(e))
        node.debug_print(self.id + ":compress:b64encode:" + str(result))
        if data:
            node.debug_print(self.id + ":compress:compression:"
                             + str(int(10000 * len(result) / len(data)) / 100) + "%")
        return result

    def decompress(self, compressed: bytes) -> bytes:
        """p2pnetwork's decompress, bounded by the node's max_decompressed_size."""
        node = self.main_node
        node.debug_print(self.id + ":decompress:input: " + str(compressed))
        compressed = base64.b64decode(compressed)
        node.debug_print(self.id + ":decompress:b64decode: " + str(compressed))
        for tag, make in ((b"zlib", zlib.decompressobj), (b"bzip2", bz2.BZ2Decompressor),
                          (b"lzma", lzma.LZMADecompressor)):
            if compressed[-len(tag):] == tag:
                try:
                    compressed = inflate(make(), compressed[:-len(tag)], self._p2p_limit())
                except Exception as e:
                    print("Exception: " + str(e))
                break
        node.debug_print(self.id + ":decompress:result: " + str(compressed))
        return compressed

    def _p2p_limit(self) -> int:
        try:
            return int(self.main_node.get_limit("max_decompressed_size"))
        except Exception:  # a node that is gone: the library's default
            return 64 << 20

    def parse_packet(self, packet: bytes) -> Any:
        """p2pnetwork's parse_packet: decompressed if tagged, then JSON, else text, else bytes."""
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

    def start(self) -> None:
        """Does nothing: the library runs the connection."""

    run = start

    def join(self, timeout: Optional[float] = None) -> None:
        """Wait until this peer's disconnected event has been delivered."""
        self._p2p_closed.wait(timeout)

    def is_alive(self) -> bool:
        """True until this peer's disconnected event has been delivered."""
        return not self._p2p_closed.is_set()

    def _p2p_gone(self) -> None:
        self.terminate_flag.set()
        self._p2p_closed.set()

    def set_info(self, key: Any, value: Any) -> None:
        """Store any Python value under key, for this peer."""
        self.info[key] = value

    def get_info(self, key: Any) -> Any:
        """The value set under key, else the library's (text: str, "ping": float), else KeyError."""
        if key in self.info:
            return self.info[key]
        value = self._p2p_native_info(key) if isinstance(key, str) and self._p2p_handle else None
        if value is None:
            raise KeyError(key)
        return value

    def _p2p_native_info(self, key: str) -> Optional[Any]:
        try:
            ckey = _n.encode_str(key)
        except ValueError:  # a NUL or a lone surrogate: no such key in the library
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

    def __str__(self) -> str:
        return "NodeConnection: {}:{} <-> {}:{} ({})".format(
            self.main_node.host, self.main_node.port, self.host, self.port, self.id)

    def __repr__(self) -> str:
        return "<NodeConnection: Node {}:{} <-> Connection {}:{}>".format(
            self.main_node.host, self.main_node.port, self.host, self.port)
