"""Hostile calls and faults (issue 16): codes and limits as the header gives them."""

import os
import re
import signal
import time

import pytest

from conftest import HOST, DEADLINE, connect, wait_for
from p2pnode import Node, P2PError
from p2pnode import _native as native


def test_status_codes_match_the_header():
    from test_load import _header
    with open(_header()) as f:
        codes = dict(re.findall(r"^#define (P2P_E\w+) (-\d+)", f.read(), re.M))
    assert "P2P_EFORK" in codes
    for name, value in codes.items():
        assert getattr(native, name) == int(value), name
        assert native.CODE_NAMES[int(value)] == name


def test_limit_values_beyond_a_duration_are_refused(nodes):
    n = nodes(Node, HOST, 0, start=False)
    n.set_limit("handshake_timeout_ms", 1234)
    for value in (9223372036855, 18446744073710, 2 ** 63 - 1):
        with pytest.raises(P2PError) as e:
            n.set_limit("handshake_timeout_ms", value)
        assert e.value.code == native.P2P_EINVAL
        assert n.get_limit("handshake_timeout_ms") == 1234
    n.set_limit("handshake_timeout_ms", 9223372036854)
    assert n.get_limit("handshake_timeout_ms") == 9223372036854


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_calls_in_a_forked_child_fail_fast(nodes):
    a = nodes(Node, HOST, 0)
    b = nodes(Node, HOST, 0)
    connect(a, b)
    pid = os.fork()
    if pid == 0:  # the child: every call refuses at once
        status = 1
        try:
            a.get_limit("max_frame_size")
        except P2PError as e:
            status = 0 if e.code == native.P2P_EFORK and "fork" in e.message else 2
        except BaseException:
            status = 3
        os._exit(status)
    end = time.monotonic() + DEADLINE
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done or time.monotonic() > end:
            break
        time.sleep(0.01)
    if not done:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert done, "the forked child's call hung"
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    # the parent's nodes go on
    assert a.get_limit("max_frame_size") == 64 << 20
    before = b.message_count_recv
    a.send_to_nodes("after the fork")
    wait_for(lambda: b.message_count_recv > before, what="a message after the fork")
