"""The best SD3/FLUX shift and the best EDM ρ for a target, with the objective curves, beside gifsym's design.

For each target, ``gifsym.decisions.families.best_parameter`` evaluates sup_t θ_t along the family (SD3's
``shift``, EDM's ``rho`` with σ_min = 0.002, σ_max = 80: a σ_min path, bounded as the GIF of the smoothed
target) and refines the minimum; ``gifsym.design`` gives the family-free optimum over the variance-preserving
schedules. Writes ``design_shift.md``, ``design_shift.json`` and ``design_shift.png`` (objective against the
parameter, log-log, with the design's value as a line).

    python derivations/design_shift.py --out out/derivations [--fast]
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from derivations._common import parse_args  # noqa: E402
from gifsym import io, target  # noqa: E402
from gifsym.decisions.design import design  # noqa: E402
from gifsym.decisions.families import FAMILIES, best_parameter  # noqa: E402

TARGETS = ("gaussian:sigma=1/2", "gaussian:sigma=1/100")


def main(argv=None) -> None:
    args = parse_args("Best SD3 shift and EDM rho for a target (objective lipschitz)", argv)
    targets = TARGETS[:1] if args.fast else TARGETS
    results = []
    for spec in targets:
        tgt = target(spec)
        d = design(tgt)
        row = {"target": spec, "design": float(d.objective_value), "families": {}}
        for family in ("sd3",) if args.fast else ("sd3", "edm"):
            values = FAMILIES[family][1][::4] if args.fast else None
            row["families"][family] = best_parameter(tgt, family=family, values=values).to_dict()
        results.append(row)
    io.write_atomic(os.path.join(args.out, "design_shift.json"), json.dumps(results, indent=2))
    lines = ["# Best shift / rho against the designed schedule (sup θ_t, estimates)", "",
             "| target | design (VP family optimum) | best SD3 shift | its sup θ | best EDM rho | its sup θ |",
             "|---|---|---|---|---|---|"]
    for r in results:
        f = r["families"]
        edm = f.get("edm", {})
        lines.append(f"| {r['target']} | {r['design']:.4g} | {f['sd3']['best']:.4g} | {f['sd3']['best_value']:.4g} | "
                     f"{edm.get('best', float('nan')):.4g} | {edm.get('best_value') or float('nan'):.4g} |")
    io.write_atomic(os.path.join(args.out, "design_shift.md"), "\n".join(lines) + "\n")
    _figure(results, os.path.join(args.out, "design_shift.png"))
    print("\n".join(lines))


def _figure(results, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gifsym.output.plot import save_figure

    families = sorted({f for r in results for f in r["families"]})
    fig, axes = plt.subplots(1, len(families), figsize=(5.5 * len(families), 4), squeeze=False)
    for ax, family in zip(axes[0], families):
        for k, r in enumerate(results):
            f = r["families"][family]
            y = np.array([np.inf if v is None else v for v in f["objective_values"]])
            line, = ax.loglog(f["values"], y, marker=".", label=r["target"])
            ax.axhline(r["design"], color=line.get_color(), ls=":", lw=1)
            ax.plot([f["best"]], [f["best_value"]], "o", color=line.get_color())
        ax.set_xlabel(f["parameter"])
        ax.set_ylabel("sup θ_t")
        ax.set_title(f"{family}: objective curve (dotted: gifsym.design)")
        ax.legend(fontsize=7)
    save_figure(fig, path)


if __name__ == "__main__":
    main()
