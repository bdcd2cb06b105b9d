#!/usr/bin/env python3
"""A Chameleon environment simulator in Python: serves chameleon.v1.EnvironmentSimulatorService
for the "py-point-1d" task family, with the gaussian-mlp policy for StreamRollouts.

    /usr/bin/python3 examples/python-simulator/server.py --port 0
    -> {"event": "listening", "service": "environment-simulator", "address": "127.0.0.1:PORT", ...}

Machine-readable events go to stdout (one JSON object a line, like `chameleon serve`),
human-readable lines to stderr. SIGTERM/SIGINT stop it gracefully.
"""

import argparse
import json
import os
import signal
import sys
import threading
from concurrent import futures
from pathlib import Path

sys.dont_write_bytecode = True  # keep the repository free of __pycache__

HERE = Path(__file__).resolve().parent
APT = "sudo apt-get install python3-grpcio python3-numpy protobuf-compiler"


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def emit(event: dict) -> None:
    print(json.dumps(event), flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default=os.environ.get("CHAMELEON_HOST", "127.0.0.1"), help="interface to listen on (0.0.0.0 for other hosts); default 127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("CHAMELEON_PORT", "0")), help="port; 0 picks a free one (default)")
    p.add_argument("--max-message-bytes", type=int, default=int(os.environ.get("CHAMELEON_MAX_MESSAGE_BYTES", 64 * 1024 * 1024)), help="largest gRPC message; default 64 MiB")
    p.add_argument("--workers", type=int, default=8, help="threads serving calls; default 8")
    p.add_argument("--max-world-sets", type=int, default=256, help="world sets open at once; default 256")
    p.add_argument("--idle-seconds", type=float, default=600.0, help="world sets unused this long are closed; default 600")
    p.add_argument("--shutdown-grace-seconds", type=float, default=10.0, help="time in-flight calls get on shutdown; default 10")
    p.add_argument("--protos", type=Path, default=HERE.parent.parent / "protos", help="the contract's .proto folder; default the repository's protos/")
    p.add_argument("--stubs-dir", type=Path, default=None, help="cache for the generated stubs; default ~/.cache/chameleon/python-stubs")
    p.add_argument("--check", action="store_true", help="check the dependencies and generate the stubs, then exit (0 when ready)")
    return p.parse_args(argv)


def load(args):
    """Imports what the server needs, generating the stubs first; exits 3 with the fix if missing."""
    try:
        import grpc  # noqa: F401
        import numpy  # noqa: F401

        from chameleon_sim.protos import StubError, ensure_stubs
    except ImportError as e:
        log(f"missing Python package ({e}); install with: {APT} (and run /usr/bin/python3)")
        sys.exit(3)
    try:
        ensure_stubs(args.protos.resolve(), args.stubs_dir)
    except StubError as e:
        log(str(e))
        sys.exit(3)
    from chameleon_sim import service

    return service


def main(argv=None) -> int:
    args = parse_args(argv)
    service = load(args)
    if args.check:
        log("ok: grpc, numpy and the generated stubs are ready")
        return 0
    import grpc

    world_sets = service.WorldSets(args.max_world_sets, args.idle_seconds)
    options = [
        ("grpc.max_receive_message_length", args.max_message_bytes),
        ("grpc.max_send_message_length", args.max_message_bytes),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.so_reuseport", 0),
    ]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.workers), options=options)
    server.add_generic_rpc_handlers((service.generic_handler(service.EnvironmentSimulator(world_sets)),))
    bind = f"[{args.host}]" if ":" in args.host else args.host
    port = server.add_insecure_port(f"{bind}:{args.port}")
    if port == 0:
        log(f"environment-simulator: cannot listen on {args.host}:{args.port}")
        return 1
    server.start()
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else bind
    emit({"event": "listening", "service": "environment-simulator", "address": f"{shown}:{port}", "port": port, "pid": os.getpid()})
    log(f"environment-simulator (python) listening on {args.host}:{port}")

    stop = threading.Event()

    def on_signal(signum, _frame):
        if stop.is_set():
            log(f"{signal.Signals(signum).name} again: exiting now")
            os._exit(130)
        log(f"{signal.Signals(signum).name}: shutting down (in-flight calls finish)")
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop.wait(0.5):
        pass
    server.stop(args.shutdown_grace_seconds).wait()
    world_sets.close_all()
    log("environment-simulator stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
