"""The Python driver of the cross-language demo and test (tests/crosslang).

A p2pnode node (the drop-in for p2pnetwork: same classes, same event
methods) driven over stdin/stdout by the line protocol that every
language's driver speaks::

    python3 driver.py <name> [port]

It starts a node on 127.0.0.1 (port 0: a free one) with id <name>, prints
``READY <port>``, then answers one line per command read from stdin::

    connect <port> [reconnect]            OK connect <peer-id> | ERR connect <code> <message>
    send <peer-id> <compression> <hex|->  OK send | ERR send <code> <message>
    broadcast <compression> <hex|->       OK broadcast | ERR broadcast <code> <message>
    disconnect <peer-id>                  OK disconnect | ERR disconnect <code> <message>
    peers                                 OK peers <id>,<id>,... | OK peers -
    key                                   OK key <hex> (its ed25519 public key)
    peer <peer-id>                        OK peer <id> encrypted <key-hex> | OK peer <id> plaintext -
    discover <target-peers>               OK discover | ERR discover <code> <message>
    known                                 OK known <id>@<host>:<port>,... | OK known -
    subscribe|unsubscribe <topic>         OK subscribe | OK unsubscribe | ERR ...
    publish <topic> <hex|->               OK publish | ERR publish <code> <message>
    stop (or end of input)                the stop events, then OK stop; exit 0

Events are printed as they come::

    EVENT <event-name> <peer-id|-> <kind|-> <compression|-> <hex|->
    EVENT node_reconnection_error <host>:<port> <trials> - -   (answered True)
    EVENT node_topic_message <peer-id> <kind> - <hex|-> <topic> <origin-id>

With P2P_IDENTITY=<path> the node loads its identity key from there, or saves
its generated one there when the file does not exist. The p2pnetwork driver
has none of the 0.4 commands: it answers ERR <cmd> -1 unknown command.

The p2pnetwork API hands node_message a Python value, not bytes: the kind is
told by its type (dict, list, number... from JSON: json; str: text; bytes:
bytes) and the hex is of the bytes as p2pnetwork would send that value again
(json.dumps for JSON values, UTF-8 for str). The API does not tell the
compression a message came with: it shows as "-".

reference_driver.py runs the same protocol on the real p2pnetwork package;
the protocol code here serves both.
"""
import json
import os
import sys
import threading

_OUT = sys.stdout          # protocol lines; anything the libraries print goes to stderr
_OUT_LOCK = threading.Lock()
COMPRESSIONS = ("none", "zlib", "bzip2", "lzma")

# Codes of the C ABI, for ERR lines in the same terms as the other drivers.
EINVAL, EALREADY, ECONNECT, ENOPEER = -1, -6, -7, -9


def say(line):
    """Write one protocol line and flush it."""
    with _OUT_LOCK:
        _OUT.write(line + "\n")
        _OUT.flush()


def hexd(data):
    return data.hex() if data else "-"


def presented(data):
    """(kind, bytes) of a value node_message got: its type tells the kind, and
    the bytes are those p2pnetwork would send for it."""
    if isinstance(data, (bytes, bytearray)):
        return "bytes", bytes(data)
    if isinstance(data, str):
        return "text", data.encode("utf-8")
    return "json", json.dumps(data).encode("utf-8")


def event_methods(base):
    """A subclass of the Node class base whose event methods print EVENT lines."""

    class DriverNode(base):
        def outbound_node_connected(self, node):
            say("EVENT outbound_node_connected %s - - -" % node.id)

        def inbound_node_connected(self, node):
            say("EVENT inbound_node_connected %s - - -" % node.id)

        def outbound_node_disconnected(self, node):
            say("EVENT outbound_node_disconnected %s - - -" % node.id)

        def inbound_node_disconnected(self, node):
            say("EVENT inbound_node_disconnected %s - - -" % node.id)

        def node_message(self, node, data):
            kind, raw = presented(data)
            say("EVENT node_message %s %s - %s" % (node.id, kind, hexd(raw)))

        def node_topic_message(self, node, topic, origin_id, data):
            kind, raw = presented(data)
            say("EVENT node_topic_message %s %s - %s %s %s"
                % (node.id, kind, hexd(raw), topic, origin_id))

        def node_disconnect_with_outbound_node(self, node):
            say("EVENT node_disconnect_with_outbound_node %s - - -" % node.id)

        def node_request_to_stop(self):
            say("EVENT node_request_to_stop - - - -")
            super().node_request_to_stop()

        def node_reconnection_error(self, host, port, trials):
            say("EVENT node_reconnection_error %s:%s %s - -" % (host, port, trials))
            return True

    return DriverNode


def find_peer(node, peer_id):
    for conn in list(node.all_nodes):
        if conn.id == peer_id:
            return conn
    return None


def command(node, f):
    """Run one command (its words f) and print its reply."""
    cmd = f[0]
    usage = "ERR %s %d bad arguments" % (cmd, EINVAL)
    if cmd == "connect":
        if len(f) not in (2, 3) or not f[1].isdigit():
            return say(usage)
        port = int(f[1])
        if not node.connect_with_node("127.0.0.1", port, reconnect=len(f) == 3 and f[2] == "reconnect"):
            return say("ERR connect %d could not connect with 127.0.0.1:%d" % (ECONNECT, port))
        for conn in list(node.nodes_outbound):
            if conn.port == port or str(conn.port) == str(port):
                return say("OK connect %s" % conn.id)
        # connect_with_node says True when the node is already connected with us.
        return say("ERR connect %d no outbound connection with 127.0.0.1:%d" % (EALREADY, port))
    if cmd in ("send", "broadcast"):
        if len(f) != (3 if cmd == "broadcast" else 4) or f[-2] not in COMPRESSIONS:
            return say(usage)
        try:
            data = b"" if f[-1] == "-" else bytes.fromhex(f[-1])
        except ValueError:
            return say(usage)
        if cmd == "broadcast":
            node.send_to_nodes(data, compression=f[-2])
        else:
            conn = find_peer(node, f[1])
            if conn is None:
                return say("ERR send %d no peer %s" % (ENOPEER, f[1]))
            node.send_to_node(conn, data, compression=f[-2])
        return say("OK " + cmd)
    if cmd == "disconnect":
        if len(f) != 2:
            return say(usage)
        conn = find_peer(node, f[1])
        if conn is None:
            return say("ERR disconnect %d no peer %s" % (ENOPEER, f[1]))
        if conn in node.nodes_outbound:
            node.disconnect_with_node(conn)
        else:
            conn.stop()  # an inbound peer: close its connection
        return say("OK disconnect")
    if cmd in GOSSIP and hasattr(node, "publish"):
        return gossip(node, cmd, f)
    if cmd == "peers":
        ids = [c.id for c in list(node.all_nodes)]
        return say("OK peers " + (",".join(ids) if ids else "-"))
    return say("ERR %s %d unknown command" % (cmd, EINVAL))


GOSSIP = {"key": 1, "peer": 2, "discover": 2, "known": 1, "subscribe": 2, "unsubscribe": 2,
          "publish": 3}


def gossip(node, cmd, f):
    """The 0.4 commands (issues 19 and 21) of a p2pnode node."""
    if len(f) != GOSSIP[cmd] or (cmd == "discover" and not f[1].isdigit()):
        return say("ERR %s %d bad arguments" % (cmd, EINVAL))
    if cmd == "key":
        return say("OK key " + node.public_key.hex())
    if cmd == "peer":
        conn = find_peer(node, f[1])
        if conn is None:
            return say("ERR peer %d no peer %s" % (ENOPEER, f[1]))
        key = conn.peer_key
        return say("OK peer %s %s" % (f[1], "encrypted " + key.hex() if key else "plaintext -"))
    if cmd == "known":
        book = ["%s@%s:%d" % p for p in node.known_peers()]
        return say("OK known " + (",".join(book) if book else "-"))
    if cmd == "discover":
        node.discover(int(f[1]))
    elif cmd == "publish":
        node.publish(f[1], b"" if f[2] == "-" else bytes.fromhex(f[2]))
    else:
        getattr(node, cmd)(f[1])
    return say("OK " + cmd)


def serve(node, stop):
    """Print READY, answer commands until stop or end of input, then stop(node)."""
    say("READY %d" % node.port)
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        f = line.split()
        if not f:
            continue
        if f[0] == "stop":
            break
        try:
            command(node, f)
        except Exception as e:  # noqa: BLE001 - the reply says what went wrong
            code = getattr(e, "code", -15)
            say("ERR %s %s %s: %s" % (f[0], code if isinstance(code, int) else -15,
                                      type(e).__name__, str(e).replace("\n", " ")))
    stop(node)
    say("OK stop")


def args():
    if len(sys.argv) not in (2, 3):
        print("usage: %s <name> [port]" % os.path.basename(sys.argv[0]), file=sys.stderr)
        sys.exit(2)
    return sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 0


def main():
    name, port = args()
    sys.stdout = sys.stderr  # the library's own prints must not mix with the protocol
    try:
        from p2pnode.node import Node
    except ImportError:  # run from the source tree
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.insert(0, os.path.join(here, "..", "..", "..", "..", "bindings", "python"))
        from p2pnode.node import Node

    path = os.environ.get("P2P_IDENTITY")
    keep = bool(path) and os.path.exists(path)
    node = event_methods(Node)("127.0.0.1", port, id=name, identity=path if keep else None)
    if path and not keep:
        node.save_identity(path)
    node.start()

    def stop(n):
        n.stop()   # returns once the library has stopped the node
        n.join()   # the node's thread has delivered the last events

    serve(node, stop)


if __name__ == "__main__":
    main()
