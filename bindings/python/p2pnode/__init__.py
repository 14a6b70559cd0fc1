"""p2pnode: peer-to-peer nodes on the native p2pnode library, with the API of p2pnetwork.

A p2pnetwork (or p2psecure) program runs with its import renamed: p2pnode.node,
p2pnode.nodeconnection and p2pnode.securenode mirror theirs (see the README).
"""

from ._native import P2PError, lib, library_path
from .node import Node
from .nodeconnection import NodeConnection
from .securenode import Reject, SecureNode

__all__ = ["node", "nodeconnection", "securenode", "Node", "NodeConnection", "SecureNode",
           "Reject", "P2PError", "library_version", "library_path"]
__version__ = "0.4.0"


def library_version() -> str:
    """The version of the loaded native library, "MAJOR.MINOR.PATCH"."""
    return str(lib.p2p_version().decode("ascii"))
