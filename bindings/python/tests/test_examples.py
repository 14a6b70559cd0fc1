"""The programs of examples/python run to the end with the expected output."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT

EXAMPLES = os.path.join(ROOT, "examples", "python")

CASES = {
    "my_own_p2p_application.py": [
        ("node_message (2) from 1: message: Hi there!", 1),
        ("node_message (3) from 1: message: Hi there!", 1),
        ("node 1 is stopping..", 1),
        ("node is requested to stop (1)", 1),
        ("node_message (3) from 2: message: Hi there node 2!", 3),
        ("node_message (2) from 3: message: Hi there node 3!", 3),
        ("end test", 1),
    ],
    "my_own_p2p_application_callback.py": [
        ("Event: outbound_node_connected from main node", 3),
        ("Event: inbound_node_connected from main node", 3),
        ("Event: node_message from main node", 2),
        (": message: hoi from node 1", 2),
        ("end", 1),
    ],
    "my_own_p2p_application_compression.py": [
        ("node_message (2) from 1: " + "a" * 400, 1),
        ("node_message (2) from 1: " + "b" * 400, 1),
        ("node_message (2) from 1: " + "c" * 400, 1),
        ("node_message (2) from 1: {'key': 'value', 'key2': 'value2'}", 1),
        ("end test", 1),
    ],
    "my_own_p2p_application_using_dict.py": [
        ("MyPeer2PeerNode: Started", 3),
        ("{'name': 'Maurice', 'number': 11}", 1),
        ("end test", 1),
    ],
}


@pytest.mark.parametrize("script", sorted(CASES))
def test_example(script):
    r = subprocess.run([sys.executable, os.path.join(EXAMPLES, script)], cwd=EXAMPLES,
                       env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    for text, count in CASES[script]:
        if text.startswith("end"):
            assert lines.count(text) == count, (text, r.stdout)  # a whole line
        else:
            assert r.stdout.count(text) == count, (text, r.stdout)
    assert "Traceback" not in r.stderr, r.stderr


def test_chat_example(tmp_path):
    """Two chat.py processes on one topic: a line typed in one is printed by the other once."""
    run = [sys.executable, os.path.join(EXAMPLES, "chat.py"), "room"]
    a = subprocess.Popen(run + ["--identity", str(tmp_path / "a.pem")], cwd=EXAMPLES,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    b = None
    try:
        port, a_id = a.stdout.readline().split()[1:]
        b = subprocess.Popen(run + ["127.0.0.1:" + port], cwd=EXAMPLES, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        lines = iter(b.stdout.readline, "")
        assert sorted(next(lines).split()[0] for _ in range(2)) == ["JOINED", "READY"]
        a.stdin.write("hello room\n")
        a.stdin.flush()
        assert next(lines).strip() == a_id + ": hello room"
    finally:
        for p in (a, b):
            if p is not None:
                p.stdin.close()
                p.wait(30)
