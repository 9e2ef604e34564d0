"""Time ``gifsym bounds --schedule S --target slc:kappa=2`` cold and warm for every catalogue and peer spec
(issue 21: each under 10 s cold and under 1 s warm).

*Cold*: a fresh process with an empty on-disk cache (``GIFSYM_CACHE`` a new temporary folder). *Warm*: a
fresh process again, with the cache the cold run left (what a user sees the second time). Each is the wall
time of the whole command (``python cli.py ...``, interpreter start and imports included). The table is
written as Markdown to ``benchmarks/bounds_cold_warm.md`` (``--output``) and printed.

The figures depend on the machine and its load: on a shared machine they are approximate (say so).
``python benchmarks/bounds_cold_warm.py`` (``--target`` another target, ``--only edm,vp`` a subset).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _run(spec: str, target: str, cache: str) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the child: user + system, exit code)."""
    env = {**os.environ, "GIFSYM_CACHE": cache}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(HERE / "cli.py"), "bounds", "--schedule", spec, "--target", target],
                          env=env, cwd=HERE, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(HERE))
    from gifsym.symbolic.schedule import CATALOGUE, PEER_CATALOGUE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="slc:kappa=2")
    parser.add_argument("--only", default=None, help="comma-separated spec names")
    parser.add_argument("--output", default=str(HERE / "benchmarks" / "bounds_cold_warm.md"))
    args = parser.parse_args(argv)
    names = [*CATALOGUE, *PEER_CATALOGUE]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    rows = []
    for name in names:
        with tempfile.TemporaryDirectory() as cache:
            cold, cold_cpu, rc1 = _run(name, args.target, cache)
            warm, warm_cpu, rc2 = _run(name, args.target, cache)
        rows.append((name, cold, cold_cpu, warm, warm_cpu, rc1, rc2))
        print(f"{name:14s} cold {cold:6.2f} s (cpu {cold_cpu:5.2f})  warm {warm:5.2f} s (cpu {warm_cpu:5.2f})  "
              f"exit {rc1}/{rc2}", flush=True)
    lines = [f"# `gifsym bounds --schedule S --target {args.target}`: cold and warm wall time", "",
             f"Machine: {os.cpu_count()} CPUs, shared with other jobs while measured (wall figures approximate; "
             "the CPU time, user + system of the command, is less affected by the load). Cold: empty on-disk "
             "cache; warm: the cache of the cold run. Both include interpreter start and imports.", "",
             "| schedule | cold wall (s) | cold CPU (s) | warm wall (s) | warm CPU (s) | exit |",
             "|---|---:|---:|---:|---:|---|"]
    lines += [f"| `{n}` | {c:.2f} | {cc:.2f} | {w:.2f} | {wc:.2f} | {r1}/{r2} |" for n, c, cc, w, wc, r1, r2 in rows]
    lines += ["", f"max cold {max(r[1] for r in rows):.2f} s wall ({max(r[2] for r in rows):.2f} s CPU), "
              f"max warm {max(r[3] for r in rows):.2f} s wall ({max(r[4] for r in rows):.2f} s CPU)", ""]
    Path(args.output).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
