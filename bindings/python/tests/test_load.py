"""Loading the library, the package's names."""

import os
import subprocess
import sys

import p2pnode
import p2pnode.node
import p2pnode.nodeconnection
from conftest import HERE

PKG = os.path.normpath(os.path.join(HERE, ".."))


def test_names_mirror_p2pnetwork():
    from p2pnode import Node, NodeConnection, P2PError
    assert Node is p2pnode.node.Node
    assert NodeConnection is p2pnode.nodeconnection.NodeConnection
    assert issubclass(P2PError, Exception)
    assert p2pnode.node.NodeConnection is NodeConnection
    assert set(["node", "nodeconnection"]) <= set(p2pnode.__all__)


def test_library_version_and_path():
    from p2pnode._native import P2P_VERSION_STRING
    assert p2pnode.library_version() == P2P_VERSION_STRING == "0.4.0"
    assert os.path.isfile(p2pnode.library_path)


def _import_with(env_lib):
    env = dict(os.environ, PYTHONPATH=PKG)
    env["P2PNODE_LIBRARY"] = env_lib
    return subprocess.run([sys.executable, "-c", "import p2pnode"], env=env,
                          capture_output=True, text=True, timeout=60)


def test_missing_library_is_an_import_error_naming_the_path():
    r = _import_with("/nonexistent/dir/libp2pnode.so")
    assert r.returncode != 0
    assert "ImportError" in r.stderr
    assert "/nonexistent/dir/libp2pnode.so" in r.stderr
    assert "P2PNODE_LIBRARY" in r.stderr


def test_not_a_library_is_an_import_error(tmp_path):
    bogus = tmp_path / "libp2pnode.so"
    bogus.write_bytes(b"not an ELF file")
    r = _import_with(str(bogus))
    assert r.returncode != 0
    assert "ImportError" in r.stderr and str(bogus) in r.stderr


def _header():
    from conftest import ROOT
    path = os.path.join(os.environ.get("P2PNODE_INCLUDE_DIR") or os.path.join(ROOT, "include"),
                        "p2pnode.h")
    if not os.path.isfile(path):
        import pytest
        pytest.skip("no header at " + path)
    return path


def test_every_declared_function_is_the_headers():
    """_constants.py declares only the functions the package calls (tools/gen_constants.py)."""
    import re
    from p2pnode._native import _PROTOTYPES
    with open(_header()) as f:
        text = f.read()
    names = set(re.findall(r"^\s*(?:const\s+)?\w+\s*\*?\s*(p2p_\w+)\(", text, re.M))
    assert len(_PROTOTYPES) >= 30
    assert set(_PROTOTYPES) <= names


def test_struct_layout_matches_the_header(tmp_path):
    """Every struct _constants.py declares (generated) has the C compiler's
    size and field offsets for the header's struct of that name."""
    import ctypes
    import shutil

    import pytest
    from p2pnode import _constants
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler")
    import re
    with open(_header()) as f:  # p2p_secure_opts -> P2PSecureOpts, as gen_constants names them
        names = re.findall(r"typedef\s+struct\s+(\w+)\s*\{", f.read())
    structs = {n: getattr(_constants, "P2P" + "".join(p.capitalize() for p in n.split("_")[1:]))
               for n in names
               if hasattr(_constants, "P2P" + "".join(p.capitalize() for p in n.split("_")[1:]))}
    assert {"p2p_ev", "p2p_stats", "p2p_peer", "p2p_buf", "p2p_secure_opts"} <= set(structs)
    lines, want = [], []
    for name, cls in structs.items():
        lines.append('printf("%%zu\\n", sizeof(%s));' % name)
        want.append(ctypes.sizeof(cls))
        for f in cls._fields_:
            lines.append('printf("%%zu\\n", offsetof(%s, %s));' % (name, f[0]))
            want.append(getattr(cls, f[0]).offset)
    src = tmp_path / "layout.c"
    src.write_text('#include <stdio.h>\n#include <stddef.h>\n#include "p2pnode.h"\n'
                   "int main(void) {\n" + "\n".join(lines) + "\nreturn 0; }\n")
    exe = tmp_path / "layout"
    subprocess.run([cc, "-I", os.path.dirname(_header()), "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()
    assert [int(x) for x in out] == want
