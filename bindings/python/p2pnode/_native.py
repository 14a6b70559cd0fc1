"""ctypes declarations of the C ABI in include/p2pnode.h.

Everything the package does goes through the functions declared here; the
rest of the package holds no protocol logic. The library is looked up, in
this order:

1. the file named by the environment variable ``P2PNODE_LIBRARY``
   (when it is set, nowhere else is searched);
2. ``libp2pnode.so`` in this package's directory (``make package`` puts it
   there, and ``pip install`` ships it);
3. ``build/libp2pnode.so`` at the root of the source tree this package sits
   in (``bindings/python/p2pnode`` -> ``../../../build``);
4. the system's library path (``ctypes.util.find_library("p2pnode")``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

__all__ = ["P2PError", "lib", "library_path", "check", "errmsg"]

# ---- The header's constants and structs (generated: _constants.py) --------

from ._constants import *  # noqa: F403 (re-exported: p2pnode._native.P2P_* as in the header)
from ._constants import (CODE_NAMES, P2P_COMPRESSION, P2P_KEY_FORMAT, P2P_KEY_POLICY,
                         P2P_LIMIT, P2P_OVERFLOW_POLICY, PROTOTYPES, P2P_OK, P2P_EHANDLE,
                         P2PBuf, P2PPeer)

#: Names of the compressions, overflow policies, key policies and formats, limits.
COMPRESSIONS, OVERFLOW_POLICIES = P2P_COMPRESSION, P2P_OVERFLOW_POLICY
KEY_POLICIES, KEY_FORMATS, LIMITS = P2P_KEY_POLICY, P2P_KEY_FORMAT, P2P_LIMIT


def limit_code(name: str, value: Any = 0) -> Tuple[int, int]:
    """The P2P_LIMIT_* code of a limit's name and value as an int (an
    overflow policy may be given by its name); ValueError for unknown names."""
    if name not in LIMITS:
        raise ValueError("p2pnode: unknown limit %r: use one of %s" % (name, ", ".join(LIMITS)))
    if name == "overflow_policy" and isinstance(value, str):
        if value not in OVERFLOW_POLICIES:
            raise ValueError("p2pnode: unknown overflow policy %r: use one of %s"
                             % (value, ", ".join(OVERFLOW_POLICIES)))
        value = OVERFLOW_POLICIES[value]
    return LIMITS[name], int(value)


def sized(cls: Any) -> Any:
    """A sized struct (p2p_stats, p2p_peer, p2p_ev...) as P2P_INIT makes it: zero, size set."""
    return cls(size=ctypes.sizeof(cls))


def as_dict(s: ctypes.Structure) -> Dict[str, Any]:
    """A struct's fields by name, its size field left out (p2p_stats: see p2pnode.h)."""
    return {f[0]: getattr(s, f[0]) for f in s._fields_ if f[0] != "size"}


# ---- The error type ----------------------------------------------------------------

class P2PError(Exception):
    """An error returned by the C library.

    ``code`` is the negative ``P2P_E*`` status, ``name`` its constant's name
    and ``message`` the library's message for the failed call::

        try:
            node.max_connections = -1
        except P2PError as e:
            print(e.code, e.name, e.message)
    """

    def __init__(self, code: int, message: str = "", function: str = "") -> None:
        self.code = code
        self.name = CODE_NAMES.get(code, "P2P_E?")
        self.message = message or strerror(code)
        self.function = function
        #: send_batch: how many messages were queued before the one that failed.
        self.sent: Optional[int] = None
        where = function + ": " if function else ""
        super().__init__(f"{where}{self.message} ({self.name})")


# ---- Loading ----------------------------------------------------------------

if sys.platform == "win32":
    _LIBNAME = "libp2pnode.dll"
elif sys.platform == "darwin":
    _LIBNAME = "libp2pnode.dylib"
else:
    _LIBNAME = "libp2pnode.so"

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def _candidates() -> List[str]:
    env = os.environ.get("P2PNODE_LIBRARY")
    if env:
        return [env]
    paths = [
        os.path.join(_PKG_DIR, _LIBNAME),
        os.path.normpath(os.path.join(_PKG_DIR, "..", "..", "..", "build", _LIBNAME)),
    ]
    found = ctypes.util.find_library("p2pnode")
    if found:
        paths.append(found)
    return paths


def _load() -> "tuple[ctypes.CDLL, str]":
    tried = []
    for path in _candidates():
        is_file = os.path.isfile(path)
        if not is_file and os.sep in path:
            tried.append(f"{path} (not found)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append(f"{path} ({e})")
    env = "P2PNODE_LIBRARY is %s" % ("set" if os.environ.get("P2PNODE_LIBRARY") else "not set")
    raise ImportError(
        "p2pnode: cannot load the native library " + _LIBNAME + "; " + env + "; looked in: "
        + "; ".join(tried)
        + ". Build it with `make lib` at the repository root, copy it into the package with "
        "`make -C bindings/python package`, or point P2PNODE_LIBRARY at it."
    )


lib, library_path = _load()

_PROTOTYPES = PROTOTYPES  # generated from the header's declarations

for _name, (_restype, _argtypes) in _PROTOTYPES.items():
    _fn = getattr(lib, _name, None)
    if _fn is None:
        raise ImportError(f"p2pnode: {library_path} lacks the function {_name} (an older library?)")
    _fn.restype, _fn.argtypes = _restype, _argtypes


# ---- Helpers ----------------------------------------------------------------

def strerror(code: int) -> str:
    """The library's static description of a status code."""
    s = lib.p2p_strerror(code)
    return s.decode("utf-8", "replace") if s else ""


def errmsg() -> str:
    """The message of the last failed call made by this thread."""
    s = lib.p2p_errmsg()
    return s.decode("utf-8", "replace") if s else ""


def error(code: int, function: str = "") -> P2PError:
    """A P2PError for code, with this thread's last message (read at once)."""
    return P2PError(code, errmsg(), function)


def check(code: int, function: str = "") -> int:
    """Raise P2PError for a negative status; return it otherwise."""
    if code < 0:
        raise error(code, function)
    return code


def version() -> str:
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return lib.p2p_version().decode("ascii")


def encode_str(s: Optional[str]) -> Optional[bytes]:
    """A Python str as the NUL-terminated UTF-8 the C functions take."""
    if s is None:
        return None
    b = s.encode("utf-8")
    if b"\x00" in b:
        raise ValueError("p2pnode: strings passed to the library cannot contain NUL characters")
    return b


def decode_str(b: Optional[bytes]) -> str:
    """A NUL-terminated string from the library as a Python str."""
    return b.decode("utf-8", "replace") if b else ""


# ---- 0.3: library-owned results (p2p_buf) and peer facts ----------------------------

PeerFacts = Tuple[str, str, int, int]  # id, host, port, direction


def take(name: str, *args: Any) -> Tuple[int, bytes]:
    """Call the function name whose last argument is a p2p_buf *out: (status,
    the bytes it handed out, freed). The status is not checked."""
    out = P2PBuf()
    rc: int = getattr(lib, name)(*args, ctypes.byref(out))
    try:
        return rc, ctypes.string_at(out.data, out.len) if rc == P2P_OK and out.data else b""
    finally:
        lib.p2p_buf_free(ctypes.byref(out))


def take_checked(name: str, *args: Any) -> bytes:
    """take, raising P2PError for a failed call."""
    rc, data = take(name, *args)
    check(rc, name)
    return data


def peer_handles(node: Any, direction: int) -> List[int]:
    """The handles of a node's peers of one direction (p2p_node_peers_buf); [] for a freed node."""
    rc, data = take("p2p_node_peers_buf", node, direction)
    if rc == P2P_EHANDLE:
        return []
    check(rc, "p2p_node_peers_buf")
    return list(memoryview(data).cast("Q")) if data else []


def peer_facts(node: Any, peer: int) -> Optional[PeerFacts]:
    """A peer's id, host, port and direction in one call (p2p_peer_facts); None when gone."""
    p = sized(P2PPeer)
    if lib.p2p_peer_facts(node, peer, ctypes.byref(p)) != P2P_OK:
        return None
    try:
        return decode_str(p.id), decode_str(p.host), p.port, p.direction
    finally:
        lib.p2p_buf_free(ctypes.byref(p.mem))
