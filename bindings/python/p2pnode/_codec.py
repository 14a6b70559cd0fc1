"""Payloads: what goes on the wire for a Python value, and back (p2pnetwork's rules).

Shared by node.py, nodeconnection.py, securenode.py and aio.py; imports
nothing of theirs.
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
from typing import Any, Tuple

from . import _native as _n

#: Codes that mean "the peer or the node is gone": the reference drops such
#: sends silently (with a debug line), and so do we.
GONE_CODES = (_n.P2P_ENOPEER, _n.P2P_EHANDLE, _n.P2P_ESTOPPED)
COMPR_CHAR = b"\x02"
_CODECS = {"zlib": (lambda d: zlib.compress(d, 6)), "bzip2": bz2.compress, "lzma": lzma.compress}


def c_int(value: Any, what: str) -> int:
    """value as a C int; out-of-range values become -1 so the library refuses them."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise TypeError("p2pnode: %s must be an int, not %s"
                            % (what, type(value).__name__)) from None
    return value if -(2 ** 31) <= value < 2 ** 31 else -1


def encode_payload(data: Any, encoding_type: str = "utf-8") -> bytes:
    """The bytes p2pnetwork puts on the wire for data.

    A str goes as its text in encoding_type, a dict as json.dumps(dict) and
    bytes (or a bytearray or memoryview) as they are. Anything else raises
    TypeError, and so does a dict that json.dumps cannot encode.
    """
    if isinstance(data, str):
        return data.encode(encoding_type)
    if isinstance(data, dict):
        return json.dumps(data).encode(encoding_type)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(
        "p2pnode: cannot send a %s: use str, dict (sent as JSON) or bytes" % type(data).__name__
    )


def decode_payload(kind: int, data: bytes) -> Any:
    """A received payload as p2pnetwork presents it: JSON as its value, text as str, else bytes.

    kind is the event's p2p_kind; JSON that does not parse falls back to
    str, and text that is not UTF-8 to bytes.
    """
    if kind in (_n.P2P_KIND_JSON, _n.P2P_KIND_TEXT):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        if kind == _n.P2P_KIND_JSON:
            try:
                return json.loads(text)
            except ValueError:
                pass
        return text
    return data


def compression_code(compression: str) -> int:
    """The P2P_COMPRESSION_* code of 'none', 'zlib', 'bzip2' or 'lzma'."""
    try:
        return _n.COMPRESSIONS[compression]
    except (KeyError, TypeError):
        raise ValueError(
            "p2pnode: unknown compression %r: use 'none', 'zlib', 'bzip2' or 'lzma'"
            % (compression,)
        ) from None


def unknown_compression(node: Any, who: str, compression: Any) -> None:
    """What p2pnetwork does with an unknown compression: nothing is sent, a
    debug line says so (its words); p2pnode also warns (warnings.warn)."""
    node.debug_print(who + ":compress:Unknown compression")
    warnings.warn("p2pnode: unknown compression %r: nothing was sent (use 'none', 'zlib', "
                  "'bzip2' or 'lzma')" % (compression,), RuntimeWarning, stacklevel=3)


def compressed(data: bytes, compression: str) -> bytes:
    """p2pnetwork's compressed form of data: base64(codec(data) + tag)."""
    return base64.b64encode(_CODECS[compression](data) + compression.encode("ascii"))


def wire_packet(payload: bytes, code: int) -> bytes:
    """A received payload as p2pnetwork's parse_packet gets it: the frame
    without its EOT. The library decodes frames before Python sees them, so
    a compressed one is encoded again with the same codec (the same payload
    comes out of decompress; the bytes may differ from the sender's)."""
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


#: The array.array type code of size_t, for the lengths of p2p_node_send_batch.
SIZE_T_CODE = next(c for c in "LQI" if array.array(c).itemsize == ctypes.sizeof(ctypes.c_size_t))


def encode_batch(messages: Any, encoding_type: str = "utf-8") -> Tuple[bytes, "array.array[int]"]:
    """The payloads of messages back to back, and their lengths (for p2p_node_send_batch)."""
    payloads = messages if type(messages) is list else list(messages)
    if any(type(m) is not bytes for m in payloads):
        payloads = [encode_payload(m, encoding_type) for m in payloads]
    return b"".join(payloads), array.array(SIZE_T_CODE, map(len, payloads))
