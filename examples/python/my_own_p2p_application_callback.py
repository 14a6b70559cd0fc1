"""One callback gets every event: no class of your own needed.

The p2pnetwork example ported to p2pnode (import renamed, port 0, waits on
conditions). It is advised to derive your own class instead; a callback
grows into one big function.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python"))

from p2pnode.node import Node  # noqa: E402  (was: from p2pnetwork.node import Node)
from wait import wait_until  # noqa: E402


# The callback that gets all the events of the network. event names what
# happened, main_node is the node that handles the connections, connected_node
# the peer that caused the event (most events) and data what it sent.
def node_callback(event, main_node, connected_node, data):
    try:
        if event != 'node_request_to_stop':  # node_request_to_stop has no connected_node
            print('Event: {} from main node {}: connected node {}: {}'.format(event, main_node.id, connected_node.id, data))
    except Exception as e:
        print(e)


node_1 = Node("127.0.0.1", 0, node_callback)   # the older form: callback third
node_2 = Node("127.0.0.1", 0, node_callback)
node_3 = Node("127.0.0.1", 0, node_callback)

node_1.start()
node_2.start()
node_3.start()

node_1.connect_with_node('127.0.0.1', node_2.port)
node_2.connect_with_node('127.0.0.1', node_3.port)
node_3.connect_with_node('127.0.0.1', node_1.port)
wait_until(lambda: all(len(n.all_nodes) == 2 for n in (node_1, node_2, node_3)))

node_1.send_to_nodes("message: hoi from node 1")
wait_until(lambda: node_2.message_count_recv == 1 and node_3.message_count_recv == 1)

node_1.stop()
node_2.stop()
node_3.stop()
for n in (node_1, node_2, node_3):
    n.join()

print('end')
