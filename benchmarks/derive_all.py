"""Derive bounds and flow-map constants for the whole catalogue × every target class, cold and warm.

Cold: the first pass in this process (schedule assumption checks, lemma derivations, interval logic,
integrals). Warm: the same pass again, answered from the caches of pure derivations (keyed on the frozen,
hashable ``(schedule, target)``). Goals (issue 3): cold under 60 s, warm under 1 s.

Run: ``python benchmarks/derive_all.py [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def one_pass(flows) -> tuple[float, list[tuple[float, str, str]]]:
    from gifsym.theory import bounds, flow_map_lipschitz

    per = []
    start = time.perf_counter()
    for gif in flows:
        t0 = time.perf_counter()
        bounds(gif)
        flow_map_lipschitz(gif)
        per.append((time.perf_counter() - t0, gif.schedule.name, gif.target.spec))
    return time.perf_counter() - start, per


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = p.parse_args()

    t_import = time.perf_counter()
    from gifsym import GIF
    from gifsym.symbolic import inventory
    from gifsym.theory.lemmas import registry
    from gifsym.symbolic.schedule import catalogue

    registry()  # build and validate the lemma graph
    t_import = time.perf_counter() - t_import

    schedules = catalogue()
    targets = {**inventory.class_targets(), **inventory.exact_targets()}
    flows = [GIF(s, tg) for s in schedules for tg in targets.values()]

    t_checks = time.perf_counter()
    for s in schedules:
        s.check()
    t_checks = time.perf_counter() - t_checks
    cold, per = one_pass(flows)
    warm, _ = one_pass(flows)

    figures = {
        "flows": len(flows),
        "schedules": [s.name for s in schedules],
        "targets": list(targets),
        "import_s": round(t_import, 3),
        "schedule_checks_s": round(t_checks, 3),
        "cold_s": round(cold + t_checks, 3),
        "cold_derivations_s": round(cold, 3),
        "warm_s": round(warm, 4),
        "slowest_cold": [{"s": round(d, 2), "schedule": s, "target": tg} for d, s, tg in sorted(per, reverse=True)[:5]],
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{len(flows)} flows: {len(schedules)} catalogue schedules x {len(targets)} targets")
    print(f"  import + lemma graph        {t_import:8.2f} s")
    print(f"  schedule assumption checks  {t_checks:8.2f} s")
    print(f"  cold (checks + derivations) {cold + t_checks:8.2f} s   (goal < 60 s)")
    print(f"  warm                        {warm:8.4f} s   (goal < 1 s)")
    print("  slowest cold flows:")
    for d, s, tg in sorted(per, reverse=True)[:5]:
        print(f"    {d:6.2f} s  {s:14} {tg}")


if __name__ == "__main__":
    main()
