"""Worked example (issue 18): how many Heun steps does the VP flow need for N(0, 0.01²), and on which grid?

For the VP schedule and the target N(0, σ²), σ = 0.01, the script asks gifsym.plan for the least number of
Heun steps that meets W₂ ≤ tol on the optimal, uniform and EDM (ρ = 7) grids, and plots the optimal grid:
its point density 1/h_k, and each step's term of the bound on the optimal and the uniform grid at the same N.
It also prints the issue's must-show tables: tightness on uniform grids (certified N / exact minimal N at 1 %
relative error, math.md §9's table) and grid quality (exact errors, Heun, σ = 0.01, linear schedule).

Writes ``sampler_plan.md`` and ``sampler_plan.<fmt>`` to ``--out``; ``--docs`` writes the figure into
docs/examples/ (sampler-plan.png).

    python derivations/sampler_plan.py [--fast] [--out DIR] [--docs] [--format png|svg|pdf]
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C
import numpy as np
import sympy

from gifsym import GIF, plan, schedule, target
from gifsym.decisions import grids
from gifsym.decisions.gaussian import GaussianModel, exact_error
from gifsym.io import write_atomic
from gifsym.output import plot as P
from gifsym.symbolic.schedule import t as T

DOCS = os.path.join(C._ROOT, "docs", "examples")
TOLS = (1e-3, 1e-4)
TABLE = {("linear", 0.3): (192, 11), ("linear", 0.01): (3958, 337),
         ("trigonometric", 0.3): (100, 17), ("trigonometric", 0.01): (6016, 531)}


def _least(fn, tol: float) -> int:
    hi = 1
    while fn(hi) > tol:
        hi *= 2
    lo = hi // 2
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fn(mid) > tol else (lo, mid)
    return hi


def worked_example(lines: list[str]) -> tuple:
    flow = GIF(schedule("vp"), target("gaussian:sigma=0.01"))
    lines += ["## VP, N(0, 0.01²), Heun", "", "| tol | optimal | uniform | EDM ρ=7 |", "|---|---|---|---|"]
    best = None
    for tol in TOLS:
        ps = [plan(flow, sampler="heun", tol=tol, grid=g) for g in ("optimal", "uniform", "edm")]
        lines.append(f"| {tol:g} | " + " | ".join(f"{p.steps} (W₂ ≤ {p.w2_bound.value:.3g})" for p in ps) + " |")
        best = best or ps[0]
    uni = plan(flow, sampler="heun", steps=best.steps, grid="uniform")
    lines += ["", f"At N = {best.steps} the uniform grid's bound is {uni.w2_bound.value:.3g} "
              f"({uni.w2_bound.value / best.w2_bound.value:.0f}× the optimal grid's).", ""]
    return best, uni


def tightness(lines: list[str]) -> None:
    lines += ["## Tightness on uniform grids (1 % relative error)", "",
              "| schedule, σ | Euler: exact N / certified N | Heun: exact N / certified N |", "|---|---|---|"]
    for (name, s), want in TABLE.items():
        flow = GIF(schedule(name), target(f"gaussian:sigma={s}"))
        g = GaussianModel.of(flow.schedule, flow.target)
        cells = []
        for method, w in zip(("euler", "heun"), want, strict=True):
            exact_n = _least(lambda n, m=method: exact_error(g, m, np.linspace(0, 1, n + 1)), 0.01 * s)
            cert = plan(flow, sampler=method, tol=0.01 * s, grid="uniform").steps
            assert exact_n == w
            cells.append(f"{exact_n} / {cert} ({cert / exact_n:.2f}×)")
        lines.append(f"| {name}, {s} | " + " | ".join(cells) + " |")
    lines.append("")


def grid_quality(lines: list[str]) -> None:
    flow = GIF(schedule("linear"), target("gaussian:sigma=0.01"))
    g = GaussianModel.of(flow.schedule, flow.target)
    sig = sympy.lambdify([T], flow.schedule.a / flow.schedule.b, modules="numpy")
    lines += ["## Grid quality (Heun, linear, σ = 0.01; exact errors)", "",
              "| N | optimal | uniform / optimal | EDM ρ=7 / optimal |", "|---|---|---|---|"]
    for n in (10, 20, 40):
        opt = exact_error(g, "heun", plan(flow, sampler="heun", steps=n).grid)
        uni = exact_error(g, "heun", grids.uniform(n, 0.0, 1.0))
        edm = exact_error(g, "heun", grids.edm(n, 0.0, 1.0, sig))
        lines.append(f"| {n} | {opt:.3g} | {uni / opt:.0f}× | {edm / opt:.1f}× |")
    lines.append("")


def figure(best, uni, path: str) -> str:
    plt = P._pyplot()
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    g = np.array(best.grid)
    mid, h = 0.5 * (g[1:] + g[:-1]), np.diff(g)
    ax1.semilogy(mid, 1 / h, "o-", ms=3)
    ax1.set_ylabel("point density 1/h_k")
    ax1.set_title(f"VP, N(0, 0.01²), Heun: the optimal grid ({best.steps} steps)")
    gu = np.array(uni.grid)
    ax2.semilogy(mid, best.per_step, "o-", ms=3, label=f"optimal (W₂ ≤ {best.w2_bound.value:.2g})")
    ax2.semilogy(0.5 * (gu[1:] + gu[:-1]), uni.per_step, "s-", ms=3, label=f"uniform (W₂ ≤ {uni.w2_bound.value:.2g})")
    ax2.set_xlabel("t")
    ax2.set_ylabel("step k's term of the bound")
    ax2.legend()
    return P.save_figure(fig, path)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=C.DEFAULT_OUT)
    p.add_argument("--fast", action="store_true", help="the worked example only (what the test suite runs)")
    p.add_argument("--docs", action="store_true", help="write the figure into docs/examples/")
    p.add_argument("--format", default="png", choices=["png", "svg", "pdf"])
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    lines = ["# Sampler plans: a worked example", ""]
    best, uni = worked_example(lines)
    if not args.fast:
        tightness(lines)
        grid_quality(lines)
    fig = figure(best, uni, os.path.join(args.out, f"sampler_plan.{args.format}"))
    if args.docs:
        os.makedirs(DOCS, exist_ok=True)
        figure(best, uni, os.path.join(DOCS, f"sampler-plan.{args.format}"))
    write_atomic(os.path.join(args.out, "sampler_plan.md"), "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {fig}")


if __name__ == "__main__":
    main()
