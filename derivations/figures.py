"""Figures for every target class of the inventory, the lemma graph, sample paths and a tightness plot.

Writes, into ``--out`` (format by ``--format``, default PNG):

* ``bounds-<class>.<fmt>`` — θ_t and the two-sided Jacobian bounds against t, every schedule on one figure;
* ``lemmas.svg`` — the lemma graph (``lemmas.dot`` when Graphviz is not installed);
* ``trajectories-<target>.<fmt>`` — sample paths of a Gaussian (1-D) and a mixture (2-D) flow;
* ``tightness.<fmt>`` — bound against observed worst case from ``gifsym.verify`` (full run only: it runs
  the numerical checks).

    python derivations/figures.py [--fast] [--out DIR] [--format png|svg|pdf]
"""

from __future__ import annotations

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C

from gifsym import GIF

from gifsym.symbolic import inventory

from gifsym import schedule
from gifsym.output import plot as P


def bounds_figures(out: str, fmt: str, fast: bool) -> list[str]:
    scheds = [s for _, s in C.schedules(fast)]
    targets = C.class_targets(fast)[:1] if fast else C.class_targets(fast)
    paths = []
    for tid, tgt in targets:
        start = time.perf_counter()
        paths.append(
            P.plot_bounds(scheds, tgt, os.path.join(out, f"bounds-{tid}.{fmt}"), points=60 if fast else 400)
        )
        C.log(f"  bounds-{tid}: {time.perf_counter() - start:.1f} s")
    return paths


def lemma_graph(out: str) -> str:
    name = "lemmas.svg" if shutil.which("dot") else "lemmas.dot"
    return P.plot_lemmas(os.path.join(out, name))


def trajectories(out: str, fmt: str, fast: bool) -> list[str]:
    exact = inventory.exact_targets()
    cases = [("linear", "gauss-1d")] + ([] if fast else [("linear", "gmm-iso"), ("trigonometric", "gmm-iso")])
    paths = []
    for sid, tid in cases:
        flow = GIF(schedule(sid), exact[tid])
        path = os.path.join(out, f"trajectories-{sid}-{tid}.{fmt}")
        paths.append(P.plot_trajectories(flow, path, n=8 if fast else 64, points=21 if fast else 101))
    return paths


def tightness(out: str, fmt: str) -> str:
    from gifsym.numerics.verify import verify

    flow = GIF(schedule("trigonometric"), inventory.exact_targets()["gmm-sigmas"])
    return P.plot_verify(verify(flow), os.path.join(out, f"tightness.{fmt}"))


def main(argv=None) -> int:
    args = C.parse_args(__doc__.splitlines()[0], argv, figure_format=True)
    start = time.perf_counter()
    C.log(f"figures: {'fast' if args.fast else 'full'} run into {args.out}")
    paths = bounds_figures(args.out, args.format, args.fast)
    paths.append(lemma_graph(args.out))
    paths += trajectories(args.out, args.format, args.fast)
    if not args.fast:
        paths.append(tightness(args.out, args.format))
    return C.finish(paths, f"figures: {len(paths)} files in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
