"""A chat over a topic: every line you type goes to everyone in the room, once.

    python3 chat.py <topic> [<bootstrap-host>:<port>] [--port N] [--identity FILE]

The first member starts without a bootstrap; the others name any member's
address. The node learns the rest of the network from its peers (discover),
subscribes to the topic and publishes each line of stdin on it. Links are
encrypted (TLS 1.3 with the nodes' ed25519 keys) when both ends can. With
--identity the node keeps its key in FILE (made on first use), so its
public key, which the others may pin, stays the same across runs.
It prints ``READY <port> <id>``, ``JOINED <id>`` per peer and
``<origin id>: <text>`` per line from the room.
"""
import argparse
import os
import sys
import threading

from p2pnode import Node

_OUT_LOCK = threading.Lock()


def say(line):
    with _OUT_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class ChatNode(Node):
    def inbound_node_connected(self, node):
        say("JOINED " + node.id)

    def outbound_node_connected(self, node):
        say("JOINED " + node.id)

    def node_topic_message(self, node, topic, origin_id, data):
        say("%s: %s" % (origin_id, data))


def main():
    args = argparse.ArgumentParser(description="A chat over a gossip topic.")
    args.add_argument("topic")
    args.add_argument("bootstrap", nargs="?", help="host:port of any member")
    args.add_argument("--port", type=int, default=0)
    args.add_argument("--identity", help="a PEM file that keeps the node's key")
    opts = args.parse_args()
    keep = opts.identity and os.path.exists(opts.identity)
    node = ChatNode("127.0.0.1", opts.port, identity=opts.identity if keep else None)
    if opts.identity and not keep:
        node.save_identity(opts.identity)
    node.subscribe(opts.topic)
    node.start()
    try:
        if opts.bootstrap:
            host, _, port = opts.bootstrap.rpartition(":")
            if not node.connect_with_node(host, int(port)):
                sys.exit("chat: cannot reach " + opts.bootstrap)
            node.discover(target_peers=8)  # meet more of the room than the bootstrap
        say("READY %d %s" % (node.port, node.id))
        for line in sys.stdin:
            if line.strip():
                node.publish(opts.topic, line.rstrip("\n"))
    finally:
        node.close()


if __name__ == "__main__":
    main()
