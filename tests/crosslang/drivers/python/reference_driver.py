"""The p2pnetwork driver of the cross-language demo and test (tests/crosslang).

The same line protocol as driver.py (see there), on the real p2pnetwork 1.2
package - the reference that p2pnode's wire format follows::

    python3 reference_driver.py <name> [port]

The node is p2pnetwork's own Node, subclassed through its documented hooks
(the event methods and create_new_connection) and otherwise unmodified.
What the driver has to work around in p2pnetwork 1.2:

- A node cannot listen on port 0 (it would not tell the port): without a
  port the driver picks a free one (binds port 0, reads it, closes it).
- Its sockets wait up to 10 s (accept, and recv of every connection) before
  they look at the stop flag, so stop() and a disconnect could take 10 s.
  The driver sets those timeouts to 0.1 s; nothing else changes.
- It prints its own lines on stdout: they go to stderr here.
- Kinds and hex as in driver.py: by the type of the value node_message gets;
  the compression shows as "-".
- Its reconnect has a bug ('tries' vs 'trials') and it never notices that a
  peer closed the connection (recv returning b'' is not treated as the end):
  it finds out when a send to that peer fails. The cross-language test does
  not use this node as a reconnecting dialler.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import driver  # noqa: E402  (the protocol code)

SOCKET_TIMEOUT = 0.1  # p2pnetwork: 10 s


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def main():
    name, port = driver.args()
    sys.stdout = sys.stderr  # p2pnetwork prints; the protocol has the real stdout
    from p2pnetwork.node import Node
    from p2pnetwork.nodeconnection import NodeConnection

    class ReferenceNode(driver.event_methods(Node)):
        def create_new_connection(self, connection, id, host, port):
            conn = NodeConnection(self, connection, id, host, port)
            connection.settimeout(SOCKET_TIMEOUT)  # notice stop() within 0.1 s
            return conn

    node = ReferenceNode("127.0.0.1", port or free_port(), id=name)
    node.sock.settimeout(SOCKET_TIMEOUT)  # the accept loop: notice stop() within 0.1 s
    node.start()

    def stop(n):
        n.stop()
        n.join()  # its thread stops every connection and reports each

    driver.serve(node, stop)


if __name__ == "__main__":
    main()
