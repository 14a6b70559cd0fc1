"""Messages sent with zlib, bzip2 and lzma compression.

The p2pnetwork example ported to p2pnode (import renamed, port 0, waits on
conditions). Compression pays off for large, repetitive messages.
"""
from MyOwnPeer2PeerNode import MyOwnPeer2PeerNode
from wait import wait_until

node_1 = MyOwnPeer2PeerNode("127.0.0.1", 0, 1)
node_2 = MyOwnPeer2PeerNode("127.0.0.1", 0, 2)

node_1.start()
node_2.start()

node_2.connect_with_node('127.0.0.1', node_1.port)
wait_until(lambda: len(node_1.nodes_inbound) == 1)

node_1.send_to_nodes("a" * 400, compression="zlib")
node_1.send_to_nodes("b" * 400, compression="bzip2")
node_1.send_to_nodes("c" * 400, compression="lzma")
node_1.send_to_nodes({"key": "value", "key2": "value2"}, compression="zlib")
wait_until(lambda: node_2.message_count_recv == 4)

print("node 1 is stopping..")
node_1.stop()
node_2.stop()
node_1.join()
node_2.join()
print('end test')
