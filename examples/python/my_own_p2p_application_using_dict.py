"""A dict is sent as JSON and arrives as a dict.

The p2pnetwork example ported to p2pnode (import renamed, port 0, waits on
conditions).
"""
from MyOwnPeer2PeerNode import MyOwnPeer2PeerNode
from wait import wait_until

node_1 = MyOwnPeer2PeerNode("127.0.0.1", 0)
node_2 = MyOwnPeer2PeerNode("127.0.0.1", 0)
node_3 = MyOwnPeer2PeerNode("127.0.0.1", 0)

node_1.start()
node_2.start()
node_3.start()

node_1.connect_with_node('127.0.0.1', node_2.port)
node_2.connect_with_node('127.0.0.1', node_3.port)
node_3.connect_with_node('127.0.0.1', node_2.port)   # already connected: True, nothing new
wait_until(lambda: len(node_2.all_nodes) == 2 and len(node_3.all_nodes) == 1)

node_1.send_to_nodes({"name": "Maurice", "number": 11})
wait_until(lambda: node_2.message_count_recv == 1)

node_1.stop()
node_2.stop()
node_3.stop()
for n in (node_1, node_2, node_3):
    n.join()
print('end test')
