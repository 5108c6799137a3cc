"""A stand-in for `python -m deskgrid.apps.run` that misbehaves on purpose, to test the
native runner's sandbox: APP --params F --workdir D --result R --cores N."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("app")
    parser.add_argument("--params")
    parser.add_argument("--workdir")
    parser.add_argument("--result")
    parser.add_argument("--cores")
    parser.add_argument("--input", action="append", default=[])
    args = parser.parse_args()
    out: object = None
    if args.app == "env":
        out = {
            "env": dict(os.environ),
            "cwd": os.getcwd(),
            "files": sorted(os.listdir(".")),
            "nice": os.nice(0),
            "as": resource.getrlimit(resource.RLIMIT_AS),
            "cpu": resource.getrlimit(resource.RLIMIT_CPU),
            "pgid_is_pid": os.getpgid(0) == os.getpid(),
        }
    elif args.app == "memory":
        blocks = []
        for _ in range(64):
            blocks.append(bytearray(256 * 2**20))  # 16 GiB at most: the limit stops it
        out = "allocated everything"
    elif args.app == "cpu":
        while True:
            pass
    elif args.app == "busy":  # burns one core, reporting progress, for `seconds`
        seconds = json.load(open(args.params))["seconds"]
        start = time.process_time()
        while time.process_time() - start < seconds:
            for _ in range(200_000):
                pass
            print(json.dumps({"progress": (time.process_time() - start) / seconds}), flush=True)
        out = "done"
    elif args.app == "family":  # a child process that would outlive us without the group kill
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        print(json.dumps({"progress": 0.0, "child": child.pid}), flush=True)
        time.sleep(600)
    elif args.app == "flood":  # fills its folder, one 1 MiB file after another (200 MiB)
        for n in range(200):
            with open(f"flood-{n}", "wb") as fh:
                fh.write(b"x" * 2**20)
        out = "flooded"
    elif args.app == "files":  # many empty files (20,000)
        for n in range(20_000):
            open(f"f-{n}", "wb").close()
        out = "made files"
    elif args.app == "bigfile":  # one file of 200 MiB
        with open("big", "wb") as fh:
            for _ in range(200):
                fh.write(b"x" * 2**20)
        out = "wrote big"
    elif args.app == "linkresult":  # the result is a link to a file of the volunteer's
        os.symlink(json.load(open(args.params))["target"], args.result)
        return 0
    elif args.app == "noresult":
        return 0
    elif args.app == "junk":
        print("not json", flush=True)
        print(json.dumps({"progress": "x"}), flush=True)
        print(json.dumps({"progress": 7, "keys": 3}), flush=True)
        out = "ok"
    with open(args.result, "w") as fh:
        json.dump(out, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
