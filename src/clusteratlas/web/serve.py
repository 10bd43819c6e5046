"""Running the web application in several worker processes that share the load evenly.

uvicorn's own ``--workers`` binds one listening socket in the parent and lets every worker
accept from it. Whichever worker wakes first takes all the connections waiting, so when many
keep-alive connections arrive together (a reverse proxy's pool, a load test) one worker can end
up with most of them and saturate its core while the other idles: on this project's 2-core
benchmark one worker used 2.6× the CPU of the other and the server answered ~200 requests/s
instead of ~300. Here each worker binds its own socket to the same address with
``SO_REUSEPORT``, and the kernel spreads new connections across the workers' sockets by a hash
of the client's address and port. A worker that dies is started again.

Linux (and other systems with ``SO_REUSEPORT``) only; elsewhere :func:`run_workers` falls back
to uvicorn's workers.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import time
from types import FrameType
from typing import Any

__all__ = ["APP_FACTORY", "bind_reuseport", "run_workers"]

#: what each worker process calls to build its app (from the environment's settings)
APP_FACTORY = "clusteratlas.web.app:create_app"
#: a worker that exits sooner than this after its start counts as failing to start
QUICK_EXIT_SECONDS = 10.0


def bind_reuseport(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` with ``SO_REUSEPORT`` (not listening yet)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _die_with_parent(parent: int) -> None:
    """Ask Linux to send SIGTERM to this process when its parent dies (even by SIGKILL), so
    that no worker outlives the supervisor."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent:  # the parent died before the request
        os.kill(os.getpid(), signal.SIGTERM)


def _worker(host: str, port: int, access_log: bool, parent: int) -> None:  # pragma: no cover
    import uvicorn

    _die_with_parent(parent)
    sock = bind_reuseport(host, port)
    config = uvicorn.Config(
        APP_FACTORY, factory=True, host=host, port=port, access_log=access_log, log_level="info"
    )
    uvicorn.Server(config).run(sockets=[sock])


def run_workers(host: str, port: int, workers: int, *, access_log: bool = True) -> None:
    """Serve :data:`APP_FACTORY` on ``host:port`` in ``workers`` processes until SIGINT or
    SIGTERM, each with its own ``SO_REUSEPORT`` socket (see the module's description)."""
    if not hasattr(socket, "SO_REUSEPORT"):  # pragma: no cover - not Linux
        import uvicorn

        uvicorn.run(
            APP_FACTORY, factory=True, host=host, port=port, workers=workers, access_log=access_log
        )
        return
    # fail here, clearly, when the address is taken (by a server without SO_REUSEPORT)
    bind_reuseport(host, port).close()
    context = multiprocessing.get_context("spawn")
    args: tuple[Any, ...] = (host, port, access_log, os.getpid())

    def start() -> tuple[multiprocessing.process.BaseProcess, float]:
        process = context.Process(target=_worker, args=args, daemon=False)
        process.start()
        return process, time.monotonic()

    processes = [start() for _ in range(workers)]
    stopping = False
    quick_exits = 0

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping:
            time.sleep(0.5)
            for k, (process, began) in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                quick_exits = (
                    quick_exits + 1 if time.monotonic() - began < QUICK_EXIT_SECONDS else 0
                )
                if quick_exits >= 3 * workers:
                    raise RuntimeError(
                        f"the workers keep exiting at start (last status {process.exitcode}); "
                        "see the messages above"
                    )
                print(
                    f"worker {process.pid} exited with status {process.exitcode}; starting another",
                    file=sys.stderr,
                    flush=True,
                )
                processes[k] = start()
    finally:
        for process, _ in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests under way
        for process, _ in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
