"""Generates the Python message classes of the contract from the repository's protos/ at
run time, into a cache folder keyed by the protos' content (nothing generated is committed).

Any protoc that knows proto3 `optional` (>= 3.15) will do: grpc_tools' bundled one when it
is new enough (pip's grpcio-tools), else `protoc` on PATH (Debian: protobuf-compiler).
Debian 12's python3-grpc-tools bundles protoc 3.5.1, which refuses tensor.proto.
Only *_pb2.py files are generated: the service registers its handlers from the descriptor.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Tuple

ROOT = "chameleon/v1/environment_simulator.proto"
MIN_PROTOC = (3, 15)


class StubError(RuntimeError):
    pass


def proto_closure(protos: Path, root: str = ROOT) -> List[str]:
    """`root` and the chameleon protos it imports, transitively (google/* come with protobuf)."""
    seen: List[str] = []
    todo = [root]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = protos / name
        if not path.is_file():
            raise StubError(f"{path} not found: pass --protos <the repository's protos/ folder>")
        seen.append(name)
        todo += [m for m in re.findall(r'^\s*import\s+(?:public\s+)?"([^"]+)"\s*;', path.read_text(), re.M) if not m.startswith("google/")]
    return sorted(seen)


def _version(cmd: List[str]) -> Optional[Tuple[int, ...]]:
    try:
        out = subprocess.run(cmd + ["--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"(\d+)\.(\d+)", out.stdout + out.stderr)
    return (int(m.group(1)), int(m.group(2))) if m and out.returncode == 0 else None


def find_protoc() -> Tuple[List[str], List[str]]:
    """(command, extra include flags) of a protoc that handles proto3 optional."""
    tried = []
    try:
        import grpc_tools  # noqa: F401 - only to find its bundled includes

        cmd = [sys.executable, "-m", "grpc_tools.protoc"]
        v = _version(cmd)
        if v and v >= MIN_PROTOC:
            return cmd, ["-I" + str(Path(grpc_tools.__file__).parent / "_proto")]
        tried.append(f"grpc_tools.protoc {'.'.join(map(str, v)) if v else '(not runnable)'}")
    except ImportError:
        tried.append("grpc_tools (not installed)")
    system = shutil.which("protoc")
    if system:
        v = _version([system])
        if v and v >= MIN_PROTOC:
            return [system], []
        tried.append(f"{system} {'.'.join(map(str, v)) if v else '(not runnable)'}")
    else:
        tried.append("protoc on PATH (not found)")
    raise StubError(
        f"need protoc >= {'.'.join(map(str, MIN_PROTOC))} for proto3 optional fields; tried {', '.join(tried)}. "
        "Install it with `sudo apt-get install protobuf-compiler` (or `pip install grpcio-tools`)."
    )


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "chameleon" / "python-stubs"


def ensure_stubs(protos: Path, cache: Optional[Path] = None) -> Path:
    """Generates (once per content) and puts the stubs on sys.path; returns their folder."""
    files = proto_closure(protos)
    key = hashlib.sha256(b"".join(f.encode() + b"\0" + (protos / f).read_bytes() for f in files)).hexdigest()[:16]
    cache = cache or default_cache()
    target = cache / key
    if not (target / "chameleon" / "v1" / "environment_simulator_pb2.py").is_file():
        cmd, includes = find_protoc()
        cache.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=cache))
        out = subprocess.run(cmd + [f"-I{protos}", *includes, f"--python_out={work}", *files], capture_output=True, text=True)
        if out.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            hint = "\n(the well-known google/protobuf/*.proto files come with libprotobuf-dev: sudo apt-get install libprotobuf-dev)" if "google/protobuf" in out.stderr else ""
            raise StubError(f"protoc failed:\n{out.stderr.strip()}{hint}")
        try:
            os.rename(work, target)  # atomic; another process may have won the race
        except OSError:
            shutil.rmtree(work, ignore_errors=True)
    if str(target) not in sys.path:
        sys.path.insert(0, str(target))
    return target
