"""A schedule designed for scikit-learn's digits against SD3's shift 3, at Heun with 10 steps.

python derivations/design_digits.py [--fast] [--out DIR]

The 8×8 digits (pixels scaled to [0, 1]) are split at random into a training set, the target
``empirical:FILE,sigma=SIGMA`` (written to a temporary ``.npy``; σ > 0 keeps θ_t bounded up to t = 1), and a
held-out set. :func:`gifsym.design` with objective ``steps`` minimises the plan's W₂ bound (Heun, 10 steps;
:func:`gifsym.plan`, kind ``estimate`` for a data target: simulated terms) over its family; the same plan is
made for ``sd3:shift=3``. Each schedule is then sampled with Heun on its plan's grid from the same source
draws, and the samples are scored by

* W₂ against held-out digits (POT's exact ``emd2``, squared Euclidean cost; the training set's own W₂ to
  the held-out digits, on as many points, is printed as the floor of this estimate);
* the memorisation statistics of :func:`gifsym.numerics.memorisation.memorisation` against the training set.

Designs for data targets run a simulated plan per evaluation (minutes in all), so the training set is
subsampled (:data:`TRAIN`, :data:`FAST_TRAIN` points) and the optimiser's budget lowered
(:data:`EVALUATIONS`): the figures are for that subsample, not the 1,797 digits.

Writes ``design_digits.json`` and ``design_digits.md`` into ``--out``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import gifsym.decisions.design as design_module  # noqa: E402
from derivations._common import finish, parse_args  # noqa: E402
from gifsym import GIF, io, schedule, target  # noqa: E402
from gifsym.decisions.design import design  # noqa: E402
from gifsym.decisions.plan import plan  # noqa: E402
from gifsym.numerics.memorisation import memorisation  # noqa: E402

SAMPLER, STEPS, SIGMA, BASELINE = "heun", 10, 0.1, "sd3:shift=3"
#: Training points, held-out points and samples (full run; --fast).
TRAIN, HELD_OUT, SAMPLES = 100, 500, 500
FAST_TRAIN, FAST_HELD_OUT, FAST_SAMPLES = 20, 100, 100
#: Plans the design's optimiser may spend after its vertices (each a simulated plan, ~10 s on a quiet
#: machine; mixes the planner cannot prove monotone cost a failed proof each).
EVALUATIONS, FAST_EVALUATIONS = 8, 2


def split(n_train: int, n_held: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint random training and held-out digits, pixels / 16."""
    from sklearn.datasets import load_digits

    x = load_digits().data / 16.0
    idx = np.random.default_rng(seed).permutation(len(x))
    return x[idx[:n_train]], x[idx[n_train:n_train + n_held]]


def heun(field, grid, x: np.ndarray) -> np.ndarray:
    """Heun's method on ``grid`` (the sampler the plan bounds)."""
    for t0, t1 in zip(grid[:-1], grid[1:]):
        h = t1 - t0
        k1 = np.asarray(field(float(t0), x))
        k2 = np.asarray(field(float(t1), x + h * k1))
        x = x + h / 2 * (k1 + k2)
    return x


def w2(x: np.ndarray, y: np.ndarray) -> float:
    """Exact empirical W₂ (uniform weights) by POT."""
    import ot

    cost = ot.dist(x, y)  # squared Euclidean
    return float(np.sqrt(ot.emd2(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), cost)))


def main(argv=None) -> int:
    args = parse_args("A designed schedule for sklearn digits against SD3 shift 3 (Heun, 10 steps)", argv)
    n_train, n_held, n = (FAST_TRAIN, FAST_HELD_OUT, FAST_SAMPLES) if args.fast else (TRAIN, HELD_OUT, SAMPLES)
    train, held = split(n_train, n_held)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "digits.npy")
        np.save(path, train)
        tgt = target(f"empirical:{path},sigma={SIGMA}")
        start = time.perf_counter()
        budget, design_module.STEPS_EVALUATIONS = design_module.STEPS_EVALUATIONS, (
            FAST_EVALUATIONS if args.fast else EVALUATIONS)
        try:
            d = design(tgt, objective="steps", sampler=SAMPLER, steps=STEPS)
        finally:
            design_module.STEPS_EVALUATIONS = budget
        design_s = time.perf_counter() - start
        x0 = np.random.default_rng(1).standard_normal((n, train.shape[1]))
        for label, s in ((BASELINE, schedule(BASELINE)), ("designed (steps)", d.schedule)):
            flow = GIF(s, tgt)
            p = plan(flow, sampler=SAMPLER, steps=STEPS)
            x = heun(flow.field(), p.grid, x0)
            m = memorisation(x, train)
            rows.append({"schedule": label, "bound": float(p.w2_bound.value), "kind": p.w2_bound.kind,
                         "grid": list(p.grid), "w2_held_out": w2(x, held[:n]), "memorisation": m.to_dict()})
    floor = w2(train[:n] if n <= n_train else train, held[:n])
    out = {"sampler": SAMPLER, "steps": STEPS, "sigma": SIGMA, "train": n_train, "held_out": n_held,
           "samples": n, "design": d.to_dict(), "design_seconds": design_s, "w2_train_vs_held_out": floor,
           "rows": rows}
    files = [os.path.join(args.out, "design_digits.json"), os.path.join(args.out, "design_digits.md")]
    io.write_atomic(files[0], json.dumps(out, indent=2))
    lines = ["# A designed schedule for sklearn digits (Heun, 10 steps)", "",
             f"Target: {n_train} training digits (random subsample, pixels / 16), σ = {SIGMA}; {n} samples from "
             f"the same source draws; W₂ by POT against {min(n, n_held)} held-out digits (floor: the training "
             f"set's own W₂ to them, {floor:.4g}). Design: {design_s:.0f} s (shared machine).", "",
             "| schedule | plan's W₂ bound (kind) | W₂ to held-out | within δ of training | distinct hit | NN ratio |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        m = r["memorisation"]
        lines.append(f"| {r['schedule']} | {r['bound']:.4g} ({r['kind']}) | {r['w2_held_out']:.4g} | "
                     f"{100 * m['fraction_within']:.1f}% | {m['distinct_hit']} | {m['nn_ratio']:.3g} |")
    lines += ["", f"Design: {d.method}"]
    io.write_atomic(files[1], "\n".join(lines) + "\n")
    return finish(files, f"design_digits: bound {rows[1]['bound']:.4g} (designed) vs {rows[0]['bound']:.4g} "
                         f"({BASELINE}); W2 {rows[1]['w2_held_out']:.4g} vs {rows[0]['w2_held_out']:.4g}")


if __name__ == "__main__":
    sys.exit(main())
