"""Three nodes of your own class (MyOwnPeer2PeerNode) in a ring exchange messages.

The p2pnetwork example ported to p2pnode: only the import changed, plus
port 0 (a free port, read back from node.port) and waits on conditions
instead of long sleeps, so that it ends by itself in a moment.
"""
from MyOwnPeer2PeerNode import MyOwnPeer2PeerNode
from wait import wait_until

node_1 = MyOwnPeer2PeerNode("127.0.0.1", 0, 1)
node_2 = MyOwnPeer2PeerNode("127.0.0.1", 0, 2)
node_3 = MyOwnPeer2PeerNode("127.0.0.1", 0, 3)

node_1.start()
node_2.start()
node_3.start()

debug = False
node_1.debug = debug
node_2.debug = debug
node_3.debug = debug

node_1.connect_with_node('127.0.0.1', node_2.port)
node_2.connect_with_node('127.0.0.1', node_3.port)
node_3.connect_with_node('127.0.0.1', node_1.port)
wait_until(lambda: all(len(n.all_nodes) == 2 for n in (node_1, node_2, node_3)))

node_1.send_to_nodes("message: Hi there!")
wait_until(lambda: node_2.message_count_recv == 1 and node_3.message_count_recv == 1)

print("node 1 is stopping..")
node_1.stop()
node_1.join()
wait_until(lambda: len(node_2.all_nodes) == 1 and len(node_3.all_nodes) == 1)

node_2.send_to_nodes("message: Hi there node 2!")
node_2.send_to_nodes("message: Hi there node 2!")
node_2.send_to_nodes("message: Hi there node 2!")
node_3.send_to_nodes("message: Hi there node 3!")
node_3.send_to_nodes("message: Hi there node 3!")
node_3.send_to_nodes("message: Hi there node 3!")
wait_until(lambda: node_2.message_count_recv == 4 and node_3.message_count_recv == 4)

node_1.stop()
node_2.stop()
node_3.stop()
node_2.join()
node_3.join()
print('end test')
