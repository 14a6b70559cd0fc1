"""Events: the sized struct p2p_ev (generated from the header) read into Python.

Used by node.py, securenode.py and aio.py; imports nothing of theirs.
"""

from __future__ import annotations

import ctypes
import struct
from typing import Any, Dict, List

from . import _native as _n

_CODES = {ctypes.c_int32: "i", ctypes.c_uint64: "Q", ctypes.c_int64: "q", ctypes.c_size_t: "N",
          ctypes.c_void_p: "P", ctypes.c_char_p: "P"}
#: struct p2p_event as a struct format, made from the one ctypes description
#: (pointers as "P"), so that a batch is read with one iter_unpack.
EVENT = struct.Struct("@" + "".join(_CODES.get(f[1], "P") for f in _n.P2PEv._fields_))
assert EVENT.size == ctypes.sizeof(_n.P2PEv), "p2p_ev: struct format and ctypes disagree"
#: The index of each field in EVENT's tuples.
F = {f[0]: i for i, f in enumerate(_n.P2PEv._fields_)}


def discovered(ev: Any) -> List[Dict[str, Any]]:
    """The nodes of a discovery answer as p2psecure lists them."""
    if not ev.n_nodes:
        return []
    base, stride = ctypes.addressof(ev.nodes.contents), ev.nodes[0].size  # P2P_EV_NODE
    entries = (_n.P2PPeer.from_address(base + i * stride) for i in range(ev.n_nodes))
    return [{"id": _n.decode_str(d.id), "ip": _n.decode_str(d.host), "port": d.port,
             "connection": "inbound" if d.direction == _n.P2P_INBOUND else "outbound"}
            for d in entries]


class Event:
    """One polled event, copied out of the library's memory (its fields as p2p_event's)."""

    __slots__ = ("type", "kind", "peer", "peer_id", "peer_host", "peer_port", "direction",
                 "data", "compression", "host", "port", "trials", "sender_id", "msg_type",
                 "reason", "reject", "nodes", "dropped", "dropped_bytes")
    type: int
    kind: int
    peer: int
    peer_port: int
    direction: int
    compression: int
    port: int
    trials: int
    reject: int
    dropped: int
    dropped_bytes: int
    peer_id: str
    peer_host: str
    host: str
    sender_id: str
    msg_type: str
    reason: str
    data: bytes
    nodes: List[Dict[str, Any]]

    def __init__(self, ev: Any) -> None:
        for name in ("type", "kind", "peer", "peer_port", "direction", "compression", "port",
                     "trials", "reject", "dropped", "dropped_bytes"):
            setattr(self, name, getattr(ev, name))
        for name in ("peer_id", "peer_host", "host", "sender_id", "msg_type", "reason"):
            setattr(self, name, _n.decode_str(getattr(ev, name)))
        self.data = ctypes.string_at(ev.data, ev.data_len) if ev.data and ev.data_len else b""
        self.nodes = discovered(ev)
