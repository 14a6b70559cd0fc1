"""p2pnode: peer-to-peer nodes on the native p2pnode library, with the API of p2pnetwork.

Porting a p2pnetwork program is a rename of the import::

    from p2pnode.node import Node          # was: from p2pnetwork.node import Node
    node = Node("127.0.0.1", 0); node.start(); node.stop()

``p2pnode.node`` and ``p2pnode.nodeconnection`` mirror ``p2pnetwork.node`` and
``p2pnetwork.nodeconnection``, and ``p2pnode.securenode`` mirrors p2psecure's
``p2psecure.securenode``; ``Node``, ``NodeConnection``, ``SecureNode``,
``Reject`` and ``P2PError`` are also importable from the package. The native library is found as
described in ``p2pnode._native`` (``P2PNODE_LIBRARY`` overrides).
"""

from ._native import P2PError, library_path
from ._native import version as _library_version
from .node import Node
from .nodeconnection import NodeConnection
from .securenode import Reject, SecureNode

__all__ = ["node", "nodeconnection", "securenode", "Node", "NodeConnection", "SecureNode",
           "Reject", "P2PError", "library_version", "library_path"]

__version__ = "0.3.0"


def library_version() -> str:
    """The version of the loaded native library, "MAJOR.MINOR.PATCH"."""
    return _library_version()
