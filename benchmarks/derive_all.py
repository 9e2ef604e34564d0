"""Derive bounds, flow-map constants and compact forms for the whole catalogue × every target, cold and warm.

* **cold**: the first pass in a fresh process with an empty on-disk cache (schedule assumption checks,
  lemma derivations, interval logic, integrals, compact forms);
* **warm**: the same pass again in the same process, answered from the in-process caches of pure
  derivations (keyed on the frozen, hashable ``(schedule, target)``);
* **disk**: the same pass in a *new* process with the on-disk cache the cold pass filled
  (:mod:`gifsym.store`: the results are read back from JSON; compact forms are recomputed).

Goals (issue 10): cold under 10 s, warm under 0.1 s, on a quiet machine. ``--profile`` prints where the
cold time goes (cProfile, gifsym's own functions by cumulative time).

Run: ``python benchmarks/derive_all.py [--json] [--profile]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def one_pass(flows) -> tuple[float, list[tuple[float, str, str]]]:
    from gifsym.symbolic.compact import compact_many
    from gifsym.theory import bounds, flow_map_lipschitz

    per = []
    start = time.perf_counter()
    for gif in flows:
        t0 = time.perf_counter()
        b = bounds(gif)
        flow_map_lipschitz(gif)
        compact_many((b.upper, b.lower, b.lipschitz), gif.schedule)
        per.append((time.perf_counter() - t0, gif.schedule.name, gif.target.spec))
    return time.perf_counter() - start, per


def setup():
    from gifsym import GIF
    from gifsym.symbolic import inventory
    from gifsym.symbolic.schedule import catalogue
    from gifsym.theory.lemmas import registry

    registry()  # build and validate the lemma graph
    schedules = catalogue()
    targets = {**inventory.class_targets(), **inventory.exact_targets()}
    return schedules, targets, [GIF(s, tg) for s in schedules for tg in targets.values()]


def disk_pass() -> None:
    """One pass in this (new) process, for the parent's "disk" figure."""
    t0 = time.perf_counter()
    schedules, _, flows = setup()
    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    for s in schedules:
        s.check()
    seconds, _ = one_pass(flows)
    print(json.dumps({"import_s": t_import, "pass_s": time.perf_counter() - t1, "derivations_s": seconds}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--profile", action="store_true", help="profile the cold pass (slower) and print the top")
    p.add_argument("--disk-pass", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.disk_pass:
        disk_pass()
        return

    # Cold means an empty on-disk cache: a fresh folder for this run (and for the disk pass after it).
    cache = tempfile.mkdtemp(prefix="gifsym-bench-cache-")
    os.environ["GIFSYM_CACHE"] = cache

    t_import = time.perf_counter()
    schedules, targets, flows = setup()
    t_import = time.perf_counter() - t_import

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t_checks = time.perf_counter()
    for s in schedules:
        s.check()
    t_checks = time.perf_counter() - t_checks
    cold, per = one_pass(flows)
    if profiler is not None:
        profiler.disable()
    warm, _ = one_pass(flows)

    out = subprocess.run([sys.executable, __file__, "--disk-pass"], capture_output=True, text=True,
                         env={**os.environ, "GIFSYM_CACHE": cache}, check=True)
    disk = json.loads(out.stdout.strip().splitlines()[-1])

    figures = {
        "flows": len(flows),
        "schedules": [s.name for s in schedules],
        "targets": list(targets),
        "import_s": round(t_import, 3),
        "schedule_checks_s": round(t_checks, 3),
        "cold_s": round(cold + t_checks, 3),
        "cold_derivations_s": round(cold, 3),
        "warm_s": round(warm, 4),
        "disk_pass_s": round(disk["pass_s"], 3),
        "disk_import_s": round(disk["import_s"], 3),
        "profiled": bool(args.profile),
        "slowest_cold": [{"s": round(d, 2), "schedule": s, "target": tg} for d, s, tg in sorted(per, reverse=True)[:5]],
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{len(flows)} flows: {len(schedules)} catalogue schedules x {len(targets)} targets "
              "(bounds, flow-map constants, compact forms)")
        print(f"  import + lemma graph        {t_import:8.2f} s")
        print(f"  schedule assumption checks  {t_checks:8.2f} s")
        print(f"  cold (checks + derivations) {cold + t_checks:8.2f} s   (goal < 10 s{', profiled' if profiler else ''})")
        print(f"  warm (same process)         {warm:8.4f} s   (goal < 0.1 s)")
        print(f"  new process, disk cache     {disk['pass_s']:8.2f} s   (+ {disk['import_s']:.2f} s import)")
        print("  slowest cold flows:")
        for d, s, tg in sorted(per, reverse=True)[:5]:
            print(f"    {d:6.2f} s  {s:14} {tg}")
    if profiler is not None:
        import pstats

        print("\nwhere the cold time goes (gifsym functions, cumulative):")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats("gifsym/", 30)


if __name__ == "__main__":
    main()
