"""Payloads: what goes on the wire for a Python value, and back (p2pnetwork's rules).

Shared by node.py, nodeconnection.py, securenode.py and aio.py; imports nothing of theirs.
"""

from __future__ import annotations

import array
import base64
import bz2
import ctypes
import json
import lzma
import warnings
import zlib
from typing import Any, List, Tuple

from . import _native as _n

#: "The peer or the node is gone": such sends are dropped with a debug line, as p2pnetwork does.
GONE_CODES = (_n.P2P_ENOPEER, _n.P2P_EHANDLE, _n.P2P_ESTOPPED)
COMPR_CHAR = b"\x02"
_CODECS = {"zlib": (lambda d: zlib.compress(d, 6)), "bzip2": bz2.compress, "lzma": lzma.compress}
#: The array.array type code of size_t, for the lengths of p2p_node_send_batch.
SIZE_T_CODE = next(c for c in "LQI" if array.array(c).itemsize == ctypes.sizeof(ctypes.c_size_t))


def encode_payload(data: Any, encoding_type: str = "utf-8") -> bytes:
    """A str as its text, a dict as JSON, bytes-like as is; TypeError for anything else."""
    if isinstance(data, str):
        return data.encode(encoding_type)
    if isinstance(data, dict):
        return json.dumps(data).encode(encoding_type)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(
        "p2pnode: cannot send a %s: use str, dict (sent as JSON) or bytes" % type(data).__name__)


def decode_payload(kind: int, data: bytes) -> Any:
    """A received payload of p2p_kind kind: JSON as its value, text as str, else bytes."""
    if kind in (_n.P2P_KIND_JSON, _n.P2P_KIND_TEXT):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        if kind == _n.P2P_KIND_JSON:
            try:
                return json.loads(text)
            except (ValueError, RecursionError):  # nested deeper than Python's json takes
                pass
        return text
    return data


def decode_run(messages: List[Tuple[int, bytes, int]]) -> List[Any]:
    """decode_payload of each message of an _events.Run, text the short way."""
    text = _n.P2P_KIND_TEXT
    try:
        return [d.decode("utf-8") if k == text else decode_payload(k, d)
                for k, d, _ in messages]
    except UnicodeDecodeError:  # not UTF-8 by Python's rule after all: one at a time
        return [decode_payload(k, d) for k, d, _ in messages]


def sent(node: Any, rc: int, name: str, prefix: str) -> bool:
    """True for P2P_OK; False after node's debug line prefix + message for a gone peer (such sends
    are dropped, as p2pnetwork does); P2PError otherwise."""
    if rc == _n.P2P_OK:
        return True
    err = _n.error(rc, name)
    if rc not in GONE_CODES:
        raise err
    node.debug_print(prefix + err.message)
    return False


def compression_code(compression: str) -> int:
    """The P2P_COMPRESSION_* code of 'none', 'zlib', 'bzip2' or 'lzma' (else ValueError)."""
    try:
        return _n.COMPRESSIONS[compression]
    except (KeyError, TypeError):
        raise ValueError("p2pnode: unknown compression %r: use 'none', 'zlib', 'bzip2' or 'lzma'"
                         % (compression,)) from None


def send_code(node: Any, who: str, compression: Any) -> Any:
    """compression's code, or None after p2pnetwork's debug line and a RuntimeWarning."""
    code = _n.COMPRESSIONS.get(compression) if type(compression) is str else None
    if code is None:
        node.debug_print(who + ":compress:Unknown compression")
        warnings.warn("p2pnode: unknown compression %r: nothing was sent (use 'none', 'zlib', "
                      "'bzip2' or 'lzma')" % (compression,), RuntimeWarning, stacklevel=3)
    return code


def compressed(data: bytes, compression: str) -> bytes:
    """p2pnetwork's compressed form of data: base64(codec(data) + tag)."""
    return base64.b64encode(_CODECS[compression](data) + compression.encode("ascii"))


def wire_packet(payload: bytes, code: int) -> bytes:
    """A received payload as parse_packet gets it (compressed again with its codec)."""
    if code == _n.P2P_COMPRESSION_NONE:
        return payload
    names = {v: k for k, v in _n.COMPRESSIONS.items()}
    return compressed(payload, names[code]) + COMPR_CHAR


def inflate(obj: Any, data: bytes, limit: int) -> bytes:
    """Decompress data with obj (a zlib, bz2 or lzma decompressor), at most limit bytes."""
    out: bytes = obj.decompress(data, limit + 1)
    if len(out) > limit:
        raise ValueError("decompressed data is over the limit of %d bytes "
                         "(max_decompressed_size)" % limit)
    if not obj.eof:
        raise ValueError("compressed data is incomplete or truncated")
    return out


def encode_batch(messages: Any, encoding_type: str = "utf-8") -> Tuple[bytes, Any, int]:
    """p2p_node_send_batch's data, lengths (a size_t array on the lengths' buffer) and count."""
    payloads = messages if type(messages) is list else list(messages)
    if any(type(m) is not bytes for m in payloads):
        payloads = [encode_payload(m, encoding_type) for m in payloads]
    lens = array.array(SIZE_T_CODE, map(len, payloads))
    return b"".join(payloads), (ctypes.c_size_t * len(lens)).from_buffer(lens), len(lens)

