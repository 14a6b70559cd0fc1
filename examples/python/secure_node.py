"""A command-line secure node: p2psecure's examples/secure_node.py on p2pnode.

    python3 secure_node.py <key-file> <password> [port]

The key file is loaded when it exists, otherwise a new 4096-bit key is
generated and saved there. Then it prints ``READY <port> <id>`` and reads
commands: connect <host> <port>, message <json>, ping, discovery, status,
stop. The exact lines it reads and writes are in tests/crosslang/README.md
("The secure node examples"); the reference asks for the password and
prints menus instead.
"""
import json
import os
import sys
import threading

from p2pnode import P2PError, SecureNode

_OUT_LOCK = threading.Lock()


def say(line):
    """Write one line and flush it (events come from the node's thread)."""
    with _OUT_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class CommandLineNode(SecureNode):
    """Prints every event as one line."""

    def inbound_node_connected(self, node):
        say("EVENT connected %s inbound" % node.id)

    def outbound_node_connected(self, node):
        say("EVENT connected %s outbound" % node.id)

    def inbound_node_disconnected(self, node):
        say("EVENT disconnected %s" % node.id)

    def outbound_node_disconnected(self, node):
        say("EVENT disconnected %s" % node.id)

    def node_secure_message(self, node, data):
        say("EVENT message %s %s %s %s" % (node.id, data["_id"], data.get("_type", ""),
                                           json.dumps(data)))

    def node_message_rejected(self, node, data, reason, reject):
        say("EVENT rejected %s %d %s" % (node.id, reject, reason))

    def node_discovery_answer(self, node, answer):
        entries = ["%s@%s:%s/%s" % (n["id"], n["ip"], n["port"], n["connection"])
                   for n in answer["nodes"]]
        say("EVENT discovery_answer %s %s %s" % (node.id, answer["_id"],
                                                 ",".join(entries) or "-"))


def status(node):
    entries = []
    for conn in node.all_nodes:
        try:
            entries.append("%s=%r" % (conn.id, conn.get_info("ping")))
        except KeyError:
            entries.append("%s=-" % conn.id)
    return "OK status " + (",".join(entries) or "-")


def command(node, line):
    verb, _, rest = line.partition(" ")
    try:
        if verb == "connect":
            host, port = rest.split()
            if not node.connect_with_node(host, int(port)):
                return "ERR connect -7 could not connect with %s:%s" % (host, port)
            peer = [n for n in node.nodes_outbound if n.port == int(port)]
            return "OK connect " + (peer[0].id if peer else "-")
        if verb == "message":
            node.send_message(json.loads(rest))
        elif verb == "ping":
            node.send_ping()
        elif verb == "discovery":
            node.send_discovery()
        elif verb == "status":
            return status(node)
        else:
            return "ERR %s -1 unknown command" % verb
    except P2PError as e:
        return "ERR %s %d %s" % (verb, e.code, e.message)
    except ValueError as e:
        return "ERR %s -1 %s" % (verb, e)
    return "OK " + verb


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: secure_node.py <key-file> <password> [port]")
    key_file, password = sys.argv[1], sys.argv[2]
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    node = CommandLineNode("127.0.0.1", port)
    if os.path.exists(key_file):
        node.key_pair_load(key_file, password)
    else:
        print("New node: generating a 4096-bit key, which can take a few seconds...",
              file=sys.stderr)
        node.key_pair_generate()
        node.key_pair_save(key_file, password)
    node.start()
    say("READY %d %s" % (node.port, node.id))
    for line in sys.stdin:
        line = line.rstrip("\r\n")
        if line == "stop":
            break
        if line:
            say(command(node, line))
    node.stop()
    node.join()  # the disconnected events still print
    say("OK stop")


if __name__ == "__main__":
    main()
