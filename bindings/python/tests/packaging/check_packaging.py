"""The packaging check (suite python-packaging): install p2pnode the ways a user does.

Run by ``make -C bindings/python test-packaging`` (not by the binding's
``make test``: the file name is not test_*.py), with pytest and
``--noconftest``: nothing here imports the in-tree package.

In fresh virtualenvs (python3 -m venv; setuptools, wheel, build, auditwheel
and mypy from PyPI), outside the source tree:
- ``pip install <checkout>/bindings/python`` builds libp2pnode.so with go
  and installs a package that works (two threaded nodes, two asyncio nodes);
- ``python -m build`` gives an sdist and a py3-none-<platform> wheel; the
  wheel is built from the unpacked sdist with the module proxy off
  (GOPROXY=off), so the sdist carries every Go source it builds from;
- the wheel's files, tag, RECORD and the library's dynamic section are
  checked as auditwheel would (NEEDED only glibc-level system libraries,
  no RPATH), and ``auditwheel show`` agrees;
- the wheel installs with ``--no-index`` into another fresh venv and works
  there with a `go` on the PATH that fails if run;
- the installed package is typed (py.typed; mypy --strict on a user program);
- without Go, ``pip install`` stops with a message that says so.
How long each step took is printed (pytest -s) and kept in timings.txt.
"""

from __future__ import annotations

import base64
import csv
import glob
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import zipfile
from typing import Dict, Iterator, List, Optional

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.normpath(os.path.join(HERE, "..", ".."))          # bindings/python
ROOT = os.environ.get("P2PNODE_ROOT") or os.path.normpath(os.path.join(PROJECT, "..", ".."))
PYTHON = os.environ.get("P2PNODE_VENV_PYTHON") or sys.executable
NAME, VERSION = "p2pnode", "0.4.0"
# What a manylinux policy lets a wheel's library need from the system (glibc's own).
SYSTEM_LIBS = {"libc.so.6", "libpthread.so.0", "libdl.so.2", "libm.so.6", "librt.so.1",
               "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"}
TIMINGS: List[str] = []


def platform_tag() -> str:
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


def clean_env(**extra: str) -> Dict[str, str]:
    """The environment minus anything that would point at the in-tree package."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("P2PNODE_LIBRARY", "PYTHONPATH", "P2PNODE_ROOT", "P2PNODE_INCLUDE_DIR",
                        "P2PNODE_GO_SOURCE", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def sh(cmd: List[str], cwd: str, what: str, env: Optional[Dict[str, str]] = None,
       timeout: float = 600, ok: bool = True) -> subprocess.CompletedProcess:
    """Run cmd, time it, and fail with its output if it fails (when ok)."""
    start = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, env=env or clean_env(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    line = "%-58s %6.1f s" % (what, time.monotonic() - start)
    TIMINGS.append(line)
    print(line)
    if ok and p.returncode != 0:
        raise AssertionError("%s failed (exit %d):\n%s" % (what, p.returncode, p.stdout[-6000:]))
    return p


class Venv:
    def __init__(self, path: str) -> None:
        self.path = path
        self.python = os.path.join(path, "bin", "python")
        self.bin = os.path.join(path, "bin")


def make_venv(path: str, what: str, *packages: str) -> Venv:
    sh([PYTHON, "-m", "venv", path], "/", "python3 -m venv (" + what + ")")
    v = Venv(path)
    if packages:
        sh([v.python, "-m", "pip", "install", "-q", "-U", *packages], "/",
           "pip install " + " ".join(packages))
    return v


@pytest.fixture(scope="module")
def work() -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="p2pnode-packaging-")
    yield d
    out = os.environ.get("P2PNODE_TIMINGS")
    if out:
        with open(out, "w") as f:
            f.write("\n".join(TIMINGS) + "\n")
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def tools(work: str) -> Venv:
    """A fresh venv with the build tools from PyPI."""
    return make_venv(os.path.join(work, "venv-tools"), "tools", "setuptools", "wheel", "build",
                     "auditwheel", "mypy")


def run_two_nodes(v: Venv, work: str, env: Optional[Dict[str, str]] = None) -> str:
    """two_nodes.py with v's Python, from a directory outside the source tree."""
    d = tempfile.mkdtemp(dir=work, prefix="run-")
    shutil.copy(os.path.join(HERE, "two_nodes.py"), d)
    p = sh([v.python, "two_nodes.py"], d, "two nodes with the installed package", env=env,
           timeout=120)
    assert p.stdout.rstrip().endswith("ok"), p.stdout
    print("  " + p.stdout.strip().replace("\n", "\n  "))
    return p.stdout


# ---- pip install from the checkout ----------------------------------------------------

@pytest.fixture(scope="module")
def installed_from_source(work: str, tools: Venv) -> Venv:
    sh([tools.python, "-m", "pip", "install", PROJECT], work,
       "pip install bindings/python (go build inside)")
    return tools


def test_pip_install_from_the_checkout_works(installed_from_source: Venv, work: str) -> None:
    out = run_two_nodes(installed_from_source, work)
    assert os.path.join(installed_from_source.path, "lib") in out


# ---- python -m build ---------------------------------------------------------------

@pytest.fixture(scope="module")
def dist(work: str, tools: Venv) -> Dict[str, str]:
    """The sdist from the checkout, and the wheel built from the unpacked sdist offline."""
    out = os.path.join(work, "dist")
    sh([tools.python, "-m", "build", "--sdist", "--outdir", out, PROJECT], work,
       "python -m build --sdist (go mod vendor inside)")
    sdists = glob.glob(os.path.join(out, "*.tar.gz"))
    assert [os.path.basename(s) for s in sdists] == ["%s-%s.tar.gz" % (NAME, VERSION)]
    unpacked = os.path.join(work, "unpacked")
    with tarfile.open(sdists[0]) as tf:
        tf.extractall(unpacked)
    src = os.path.join(unpacked, "%s-%s" % (NAME, VERSION))
    # Everything Go needs must be in the sdist: no module proxy, no toolchain download.
    env = clean_env(GOPROXY="off", GOTOOLCHAIN="local", GOFLAGS="")
    sh([tools.python, "-m", "build", "--wheel", "--outdir", out, src], work,
       "python -m build --wheel from the sdist (GOPROXY=off)", env=env)
    wheels = glob.glob(os.path.join(out, "*.whl"))
    assert len(wheels) == 1, wheels
    return {"sdist": sdists[0], "wheel": wheels[0], "dir": out}


def test_wheel_name_and_tag(dist: Dict[str, str]) -> None:
    """py3-none-<platform>: any Python 3 (ctypes loads the library), one platform."""
    name = os.path.basename(dist["wheel"])
    assert name == "%s-%s-py3-none-%s.whl" % (NAME, VERSION, platform_tag())
    with zipfile.ZipFile(dist["wheel"]) as zf:
        wheel = zf.read("%s-%s.dist-info/WHEEL" % (NAME, VERSION)).decode()
    assert "Root-Is-Purelib: false" in wheel
    assert re.findall(r"^Tag: (.*)$", wheel, re.M) == ["py3-none-" + platform_tag()]


def test_wheel_files_and_record(dist: Dict[str, str]) -> None:
    """The package's modules, py.typed and the library; RECORD hashes every file."""
    modules = sorted(f for f in os.listdir(os.path.join(PROJECT, NAME)) if f.endswith(".py"))
    info = "%s-%s.dist-info/" % (NAME, VERSION)
    with zipfile.ZipFile(dist["wheel"]) as zf:
        names = zf.namelist()
        package = sorted(n[len(NAME) + 1:] for n in names if n.startswith(NAME + "/"))
        assert package == sorted(modules + ["libp2pnode.so", "py.typed"])
        others = [n for n in names if not n.startswith(NAME + "/") and not n.startswith(info)]
        assert others == []
        assert {"METADATA", "WHEEL", "RECORD"} <= {n[len(info):] for n in names
                                                   if n.startswith(info)}
        mode = zf.getinfo(NAME + "/libp2pnode.so").external_attr >> 16
        assert mode & 0o111, oct(mode)
        rows = list(csv.reader(io.StringIO(zf.read(info + "RECORD").decode())))
        record = {r[0]: r for r in rows}
        assert set(record) == set(names)
        for n in names:
            if n == info + "RECORD":
                continue
            data = zf.read(n)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert record[n][1] == "sha256=" + digest.decode(), n
            assert int(record[n][2]) == len(data), n
        metadata = zf.read(info + "METADATA").decode()
    assert "Name: %s\n" % NAME in metadata and "Version: %s\n" % VERSION in metadata
    assert "Requires-Python: >=3.8" in metadata


def _readelf(args: List[str], path: str) -> str:
    return subprocess.run(["readelf", *args, path], check=True, stdout=subprocess.PIPE,
                          text=True).stdout


def test_library_needs_only_system_libraries(dist: Dict[str, str], work: str) -> None:
    """As auditwheel checks: NEEDED only glibc's libraries, no RPATH/RUNPATH, our soname."""
    d = os.path.join(work, "wheel-contents")
    with zipfile.ZipFile(dist["wheel"]) as zf:
        zf.extractall(d)
    lib = os.path.join(d, NAME, "libp2pnode.so")
    with open(lib, "rb") as f:
        assert f.read(4) == b"\x7fELF"
    dyn = _readelf(["-d"], lib)
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn))
    assert needed and needed <= SYSTEM_LIBS, needed
    assert "(RPATH)" not in dyn and "(RUNPATH)" not in dyn
    assert re.findall(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", dyn) == ["libp2pnode.so"]
    versions = set(re.findall(r"GLIBC_([0-9.]+)", _readelf(["-V"], lib)))
    newest = max(versions, key=lambda v: tuple(int(x) for x in v.split(".")))
    print("libp2pnode.so NEEDED %s; newest glibc symbol version %s (manylinux_%s)"
          % (sorted(needed), newest, newest.replace(".", "_")))
    # The library exports the C ABI of the header.
    syms = subprocess.run(["readelf", "--dyn-syms", "-W", lib], check=True,
                          stdout=subprocess.PIPE, text=True).stdout
    with open(os.path.join(ROOT, "include", "p2pnode.h")) as f:
        declared = set(re.findall(r"^(?:int|const char \*)\s*(p2p_[a-z_]+)\(", f.read(), re.M))
    exported = set(re.findall(r"\b(p2p_[a-z_]+)$", syms, re.M))
    assert declared and declared <= exported, sorted(declared - exported)


def test_auditwheel_agrees(dist: Dict[str, str], tools: Venv, work: str) -> None:
    """auditwheel show finds nothing outside the manylinux policy for this glibc."""
    p = sh([os.path.join(tools.bin, "auditwheel"), "show", dist["wheel"]], work,
           "auditwheel show")
    text = " ".join(p.stdout.split())
    assert re.search(r'consistent with the following platform tag: "manylinux_\d+_\d+_', text), \
        p.stdout
    assert "required by the wheel" not in text, p.stdout


def test_sdist_carries_the_go_sources(dist: Dict[str, str]) -> None:
    base = "%s-%s/" % (NAME, VERSION)
    with tarfile.open(dist["sdist"]) as tf:
        names = [n[len(base):] for n in tf.getnames() if n.startswith(base)]
    for need in ("setup.py", "pyproject.toml", "README.md", "PKG-INFO", NAME + "/__init__.py",
                 NAME + "/aio.py", NAME + "/py.typed", "gosrc/go.mod", "gosrc/go.sum",
                 "gosrc/include/p2pnode.h", "gosrc/vendor/modules.txt"):
        assert need in names, need
    # Every source file the library is built from, as the checkout has them.
    repo = os.path.normpath(os.path.join(PROJECT, "..", ".."))
    for top in ("capi", "p2p"):
        for path in glob.glob(os.path.join(repo, top, "**", "*"), recursive=True):
            rel = os.path.relpath(path, repo)
            parts = rel.split(os.sep)
            if (rel.endswith((".go", ".c", ".h")) and not rel.endswith("_test.go")
                    and "test" not in parts and "testdata" not in parts):
                assert "gosrc/" + rel.replace(os.sep, "/") in names, rel
    assert not [n for n in names if n.endswith("_test.go") and not n.startswith("gosrc/vendor/")]
    assert not [n for n in names if n.endswith((".so", ".dll", ".dylib", ".pyc"))]
    assert not [n for n in names if n.startswith(("tests/", "gosrc/capi/test/"))]


# ---- the wheel, installed into another fresh venv ------------------------------------------

def fake_go(work: str) -> str:
    """A directory with a `go` that fails loudly, to put first on the PATH."""
    d = os.path.join(work, "fake-go-bin")
    os.makedirs(d, exist_ok=True)
    go = os.path.join(d, "go")
    with open(go, "w") as f:
        f.write("#!/bin/sh\necho 'go must not run here' >&2\nexit 99\n")
    os.chmod(go, 0o755)
    return d


def test_wheel_installs_offline_and_works_without_go(dist: Dict[str, str], work: str) -> None:
    v = make_venv(os.path.join(work, "venv-wheel"), "wheel only")
    env = clean_env(PATH=fake_go(work) + os.pathsep + os.environ.get("PATH", ""))
    sh([v.python, "-m", "pip", "install", "--no-index", dist["wheel"]], work,
       "pip install --no-index the wheel", env=env)
    run_two_nodes(v, work, env=env)


def test_installed_package_is_typed(installed_from_source: Venv, work: str) -> None:
    """mypy --strict on a program using p2pnode.aio, against the installed package."""
    d = tempfile.mkdtemp(dir=work, prefix="typed-")
    with open(os.path.join(d, "app.py"), "w") as f:
        f.write('''import asyncio
from typing import Any, List, Optional
from p2pnode.aio import Connection, Event, Node


async def main() -> List[Any]:
    got: List[Any] = []
    async with Node("127.0.0.1", 0) as a, Node("127.0.0.1", 0) as b:
        conn: Optional[Connection] = await b.connect_with_node("127.0.0.1", a.port)
        if conn is not None:
            ok: bool = await conn.send({"x": 1})
            n: int = await b.send_batch_to_node(conn, ["a", b"b"])
            await b.send_to_nodes("all", exclude=[conn], compression="zlib")
            got.append((ok, n))
        async for ev in a.events():
            e: Event = ev
            name: str = e.name
            got.append(name)
            break
    return got


print(asyncio.run(main()))
''')
    sh([os.path.join(installed_from_source.bin, "mypy"), "--strict", "app.py"], d,
       "mypy --strict on a program using p2pnode.aio")
    # aio itself, as installed.
    sh([os.path.join(installed_from_source.bin, "mypy"), "--strict", "--follow-imports=silent",
        "-p", "p2pnode.aio"], d, "mypy --strict -p p2pnode.aio")


def test_pip_install_without_go_says_so(tools: Venv, work: str) -> None:
    env = clean_env(GO="p2pnode-no-such-go")
    target = os.path.join(work, "no-go-target")
    p = sh([tools.python, "-m", "pip", "install", "--target", target, PROJECT], work,
           "pip install without Go (fails)", env=env, ok=False)
    assert p.returncode != 0
    assert "needs Go" in p.stdout and "no 'p2pnode-no-such-go' on the PATH" in p.stdout, \
        p.stdout[-3000:]
    assert not os.path.exists(os.path.join(target, NAME))
