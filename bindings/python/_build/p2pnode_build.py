"""A minimal PEP 517 build backend for the p2pnode package, with no dependencies.

setuptools before 70.1 needs the `wheel` package to build a wheel, which a
machine without network access may lack; this backend writes the wheel
itself (the package's .py files, py.typed, and libp2pnode.* when `make
package` has copied it in), so `pip install ./bindings/python` works offline,
with or without build isolation.
"""

import base64
import hashlib
import io
import os
import sysconfig
import tarfile
import zipfile

NAME = "p2pnode"
VERSION = "0.2.0"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG = os.path.join(HERE, NAME)
NATIVE = ("libp2pnode.so", "libp2pnode.dylib", "libp2pnode.dll")

METADATA = """Metadata-Version: 2.1
Name: {name}
Version: {version}
Summary: Peer-to-peer nodes on the native p2pnode library, with the API of p2pnetwork
Requires-Python: >=3.8
License: MIT
Description-Content-Type: text/markdown

{readme}"""


def _files():
    out = []
    for fn in sorted(os.listdir(PKG)):
        if fn.endswith(".py") or fn == "py.typed" or fn in NATIVE:
            out.append(fn)
    return out


def _has_native():
    return any(fn in NATIVE for fn in _files())


def _tag():
    if not _has_native():
        return "py3-none-any"
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return "py3-none-" + plat


def _metadata():
    with open(os.path.join(HERE, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return METADATA.format(name=NAME, version=VERSION, readme=readme)


def _wheel_text():
    return ("Wheel-Version: 1.0\nGenerator: p2pnode_build\nRoot-Is-Purelib: %s\nTag: %s\n"
            % ("false" if _has_native() else "true", _tag()))


def _digest(data):
    h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "sha256=" + h


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    dist_info = "%s-%s.dist-info" % (NAME, VERSION)
    path = os.path.join(metadata_directory, dist_info)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    with open(os.path.join(path, "WHEEL"), "w", encoding="utf-8") as f:
        f.write(_wheel_text())
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    dist_info = "%s-%s.dist-info" % (NAME, VERSION)
    wheel_name = "%s-%s-%s.whl" % (NAME, VERSION, _tag())
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as zf:
        def add(arcname, data, mode=0o644):
            info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
            record.append("%s,%s,%d" % (arcname, _digest(data), len(data)))

        for fn in _files():
            with open(os.path.join(PKG, fn), "rb") as f:
                add(NAME + "/" + fn, f.read(), 0o755 if fn in NATIVE else 0o644)
        add(dist_info + "/METADATA", _metadata().encode("utf-8"))
        add(dist_info + "/WHEEL", _wheel_text().encode("utf-8"))
        record.append(dist_info + "/RECORD,,")
        info = zipfile.ZipInfo(dist_info + "/RECORD", date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (0o100644) << 16
        zf.writestr(info, "\n".join(record) + "\n")
    return wheel_name


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (NAME, VERSION)
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as tf:
        for rel in ["pyproject.toml", "README.md", "_build/p2pnode_build.py"] + \
                [NAME + "/" + fn for fn in _files() if fn not in NATIVE]:
            tf.add(os.path.join(HERE, rel), arcname=base + "/" + rel)
        data = _metadata().encode("utf-8")
        info = tarfile.TarInfo(base + "/PKG-INFO")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return name
