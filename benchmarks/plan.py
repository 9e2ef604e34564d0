"""Time ``gifsym.plan`` for every Gaussian and Gaussian-mixture flow of the inventory (issue 18).

Each (schedule, target) pair gets a Heun plan with ``steps=20`` on the optimal grid, twice in the same
process: the first call is *cold* for that flow (the field's formulas, the ball programs and, for mixtures,
the Jacobian bounds and the compiled JAX kernels are built then), the second *warm* (mixtures' simulated
terms are remembered per grid, so it is mostly bookkeeping); a third plan with ``steps=21`` times a warm
plan on new grids (the simulation runs again, with the kernels compiled by the first call). The whole run starts in
a fresh interpreter, so the first flow's cold time also includes importing gifsym (and JAX at the first
mixture). Goal: warm < 2 s, cold < 20 s per flow.

Timings depend on the machine's load: run on a quiet machine. ``--smoke`` times two flows.

    python benchmarks/plan.py [--smoke] [--sampler heun] [--steps 20] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

T_START = time.perf_counter()

import gifsym  # noqa: E402
from gifsym.io import write_atomic  # noqa: E402
from gifsym.symbolic import inventory  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--sampler", default="heun")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args(argv)
    targets = inventory.exact_targets()
    pairs = [(s, name) for s in inventory.schedule_ids() for name in targets]
    if args.smoke:
        pairs = [("linear", "gauss-1d"), ("linear", "gmm-sigmas")]
    schedules = dict(zip(inventory.schedule_ids(), inventory.schedules()))
    rows = []
    print(f"{'schedule':18} {'target':14} {'kind':9} {'cold s':>7} {'warm s':>7} {'N+1 s':>7} {'W2 bound':>10}")
    for sname, tname in pairs:
        flow = gifsym.GIF(schedules[sname], targets[tname])
        times = []
        # cold, warm (the same call again: simulated terms are remembered per grid) and warm at N + 1 (a new
        # grid: the simulation runs again with the compiled kernels of the first call).
        for n in (args.steps, args.steps, args.steps + 1):
            t0 = time.perf_counter()
            try:
                plan = gifsym.plan(flow, sampler=args.sampler, steps=n)
                if not times:  # the bound reported is the N-step plan's
                    value, kind = plan.w2_bound.value, plan.w2_bound.kind
            except gifsym.GifsymError as e:
                value, kind = None, f"error: {e}"
            times.append(time.perf_counter() - t0)
        rows.append({"schedule": sname, "target": tname, "kind": kind, "cold_s": times[0], "warm_s": times[1],
                     "warm_new_n_s": times[2], "w2_bound": value})
        shown = f"{value:10.3g}" if value is not None else kind
        print(f"{sname:18} {tname:14} {kind[:9]:9} {times[0]:7.2f} {times[1]:7.2f} {times[2]:7.2f} {shown}",
              flush=True)
    cold, warm = max(r["cold_s"] for r in rows), max(r["warm_s"] for r in rows)
    new = max(r["warm_new_n_s"] for r in rows)
    print(f"\n{len(rows)} flows; slowest cold {cold:.2f} s, slowest warm {warm:.2f} s, slowest warm at N + 1 "
          f"{new:.2f} s; load average {os.getloadavg()[0]:.1f}; "
          f"total {time.perf_counter() - T_START:.1f} s including imports")
    if args.json:
        write_atomic(args.json, json.dumps({"rows": rows, "max_cold_s": cold, "max_warm_s": warm,
                                                "max_warm_new_n_s": new, "load_average": os.getloadavg()[0]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
