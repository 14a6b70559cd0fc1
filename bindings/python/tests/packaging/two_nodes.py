"""Run by the packaging check with an installed p2pnode, outside the source tree.

Checks that the package and its library come from the installation, then
has two threaded nodes and two asyncio nodes talk. Exits 0 and prints "ok"
when everything held; an assertion otherwise.
"""

import asyncio
import os
import sys
import sysconfig
import threading
import time

import p2pnode
from p2pnode import aio
from p2pnode.node import Node

HOST = "127.0.0.1"
DEADLINE = 20.0


def wait_for(predicate, what):
    end = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.01)


def where() -> None:
    pkg = os.path.dirname(os.path.abspath(p2pnode.__file__))
    site = os.path.realpath(sysconfig.get_paths()["platlib"])
    assert os.path.realpath(pkg).startswith(site), (pkg, site)
    assert "P2PNODE_LIBRARY" not in os.environ
    lib = os.path.realpath(p2pnode.library_path)
    assert lib == os.path.realpath(os.path.join(pkg, "libp2pnode.so")), lib
    assert os.path.isfile(os.path.join(pkg, "py.typed"))
    print("p2pnode %s from %s, library %s (%s)" % (p2pnode.__version__, pkg, lib,
                                                  p2pnode.library_version()))


def threaded() -> None:
    got = []
    lock = threading.Lock()

    def callback(event, main_node, conn, data):
        if event == "node_message":
            with lock:
                got.append(data)

    a = Node(HOST, 0, id="a", callback=callback)
    b = Node(HOST, 0, id="b")
    a.start()
    b.start()
    try:
        assert b.connect_with_node(HOST, a.port)
        wait_for(lambda: a.nodes_inbound, "a's inbound peer")
        b.send_to_nodes({"hello": "a"})
        b.send_to_nodes("text", compression="zlib")
        wait_for(lambda: len(got) == 2, "two messages")
        assert got == [{"hello": "a"}, "text"], got
    finally:
        for n in (a, b):
            n.stop()
        for n in (a, b):
            n.join(DEADLINE)


async def asyncio_nodes() -> None:
    async with aio.Node(HOST, 0, id="x") as x, aio.Node(HOST, 0, id="y") as y:
        conn = await y.connect_with_node(HOST, x.port)
        assert conn is not None and conn.id == "x"
        for i in range(100):
            await conn.send({"i": i})
        got = []

        async def read() -> None:
            async for ev in x.events():
                if ev.name == "node_message":
                    got.append(ev.data["i"])
                    if len(got) == 100:
                        return

        await asyncio.wait_for(read(), DEADLINE)
        assert got == list(range(100)), got


def main() -> int:
    where()
    threaded()
    asyncio.run(asyncio_nodes())
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
