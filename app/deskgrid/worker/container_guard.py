"""A Docker job's guard: its container is removed when its worker dies, however it dies.

    python -m deskgrid.worker.container_guard CONTAINER_ID

The Docker daemon, not the worker, owns a container: a worker killed with SIGKILL would leave
its job running. The worker starts this small process beside each container with a pipe on
its standard input and keeps the other end; the pipe reaches end of file when the worker
closes it or exits (even killed), and the guard then removes the container (force) and
exits. It runs in its own session, so a Ctrl-C meant for the worker does not reach it.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys

CONTAINER_ID = re.compile(r"^[0-9a-f]{12,64}$")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not CONTAINER_ID.match(argv[0]):
        print("usage: python -m deskgrid.worker.container_guard CONTAINER_ID", file=sys.stderr)
        return 2
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)  # only the end of the pipe ends the guard
    with contextlib.suppress(OSError):
        while sys.stdin.buffer.read(4096):
            pass
    with contextlib.suppress(Exception):
        import docker

        docker.from_env(timeout=30).containers.get(argv[0]).remove(force=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
