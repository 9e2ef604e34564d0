"""Time ``gifsym bounds --json`` over the inventory, before and after a change (issue 9: certification may
not make the catalogue more than 2× slower).

Each tree (this checkout, and a base: a checkout given by ``--base``, or a temporary ``git worktree`` of
``--base-rev``) runs in its own fresh interpreter with ``PYTHONPATH`` pointing at it, calling the CLI in
process for every (schedule, target) pair of the inventory — the same pairs, taken from this checkout's
``gifsym.symbolic.inventory`` — in the same order. The runs alternate (base, new, base, new, ...) so that load
on the machine hits both alike, and the ratio of the median totals is reported.

Run on a quiet machine: ``python benchmarks/bounds_inventory.py --base-rev 64c6751 --repeats 3``
(``--smoke`` times a handful of pairs once, to check the script runs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

WORKER = r"""
import contextlib, io, json, sys, time
pairs = json.loads(sys.argv[1])
import gifsym
from gifsym.cli import main
out = {"gifsym": gifsym.__file__, "flows": []}
start = time.perf_counter()
for name, tg in pairs:
    t0 = time.perf_counter()
    buf, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
        try:
            main(["bounds", "--schedule", name, "--target", tg, "--at", "0,0.5,1", "--json"])
        except SystemExit as e:
            code = e.code or 0
    out["flows"].append({"schedule": name, "target": tg, "s": time.perf_counter() - t0, "rc": code,
                         "error": err.getvalue()[-300:] if code else ""})
out["total_s"] = time.perf_counter() - start
print(json.dumps(out))
"""


def inventory_pairs(smoke: bool) -> list[tuple[str, str]]:
    sys.path.insert(0, str(HERE))
    from gifsym.symbolic.inventory import CLASS_TARGETS, EXACT_TARGETS, schedule_ids

    targets = list(CLASS_TARGETS.values()) + [spec for spec, kw in EXACT_TARGETS.values() if not kw]
    names = [n for n in schedule_ids() if not n.startswith("custom")]
    pairs = [(n, tg) for n in names for tg in targets]
    if smoke:
        pairs = [("linear", "slc:kappa=2+slcvx:beta=4"), ("vp", "ball:R=1+slc:kappa=-0.5"),
                 ("trigonometric", "gaussian:sigma=0.5")]
    return pairs


def run_tree(tree: Path, pairs: list, timeout: float) -> dict:
    # No on-disk cache (gifsym.store): every run derives, as the first run of a new user does.
    env = {**os.environ, "PYTHONPATH": str(tree), "GIFSYM_CACHE": "off"}
    out = subprocess.run([sys.executable, "-c", WORKER, json.dumps(pairs)], capture_output=True, text=True,
                         env=env, timeout=timeout, cwd=tempfile.gettempdir())
    if out.returncode != 0:
        raise SystemExit(f"worker failed in {tree}:\n{out.stderr[-3000:]}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if not res["gifsym"].startswith(str(tree)):
        raise SystemExit(f"the worker imported {res['gifsym']}, not the tree {tree}")
    return res


@contextlib.contextmanager
def base_tree(base: str | None, rev: str | None):
    if base is not None:
        yield Path(base).resolve()
        return
    folder = Path(tempfile.mkdtemp(prefix="gifsym-base-"))
    subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(folder), rev], check=True,
                   capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(folder)], capture_output=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--base", help="a checkout of the code before the change")
    g.add_argument("--base-rev", help="a git revision of this repository to time as the base (a temporary worktree)")
    p.add_argument("--repeats", type=int, default=3, help="alternating runs per tree (median taken)")
    p.add_argument("--smoke", action="store_true", help="a few pairs, once: check that the script runs")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per worker run")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = p.parse_args()
    pairs = inventory_pairs(args.smoke)
    repeats = 1 if args.smoke else max(1, args.repeats)
    runs: dict[str, list[dict]] = {"base": [], "new": []}
    with base_tree(args.base, args.base_rev) as base:
        for _ in range(repeats):
            runs["base"].append(run_tree(base, pairs, args.timeout))
            runs["new"].append(run_tree(HERE, pairs, args.timeout))
    # Only pairs both trees answer are compared (a base without a schedule fails at once, in no time).
    both = [i for i in range(len(pairs))
            if all(r["flows"][i]["rc"] == 0 for v in runs.values() for r in v)]
    totals = {k: [sum(r["flows"][i]["s"] for i in both) for r in v] for k, v in runs.items()}
    med = {k: statistics.median(v) for k, v in totals.items()}
    ratio = med["new"] / med["base"]
    per = []
    for i, (name, tg) in enumerate(pairs):
        b = statistics.median(r["flows"][i]["s"] for r in runs["base"])
        n = statistics.median(r["flows"][i]["s"] for r in runs["new"])
        rc = (runs["base"][0]["flows"][i]["rc"], runs["new"][0]["flows"][i]["rc"])
        per.append({"schedule": name, "target": tg, "base_s": round(b, 3), "new_s": round(n, 3),
                    "ratio": round(n / b, 2) if b > 0 and i in both else None, "rc": rc})
    figures = {"pairs": len(pairs), "compared_pairs": len(both), "repeats": repeats, "base_total_s": [round(x, 2) for x in totals["base"]],
               "new_total_s": [round(x, 2) for x in totals["new"]], "median_ratio": round(ratio, 3),
               "goal": "ratio <= 2", "slowest_ratios": sorted(per, key=lambda r: -(r["ratio"] or 0))[:8],
               "errors": [r for r in per if r["rc"] != (0, 0)]}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"gifsym bounds --json over {len(pairs)} inventory pairs ({len(both)} answered by both trees, "
          f"compared), {repeats} alternating run(s) per tree")
    print(f"  base  total: {', '.join(f'{x:.1f}' for x in totals['base'])} s (median {med['base']:.1f} s)")
    print(f"  new   total: {', '.join(f'{x:.1f}' for x in totals['new'])} s (median {med['new']:.1f} s)")
    print(f"  ratio new/base: {ratio:.2f}   (goal <= 2)")
    print("  largest per-pair ratios:")
    for r in figures["slowest_ratios"]:
        print(f"    {r['ratio']!s:>6}  {r['base_s']:7.2f} s -> {r['new_s']:7.2f} s  {r['schedule']:14} {r['target']}")
    for r in figures["errors"]:
        print(f"  exit codes differ or fail (base, new) = {r['rc']}: {r['schedule']} {r['target']}")


if __name__ == "__main__":
    main()
