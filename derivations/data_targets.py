"""Real data as targets: the exact flow of scikit-learn's digits and two moons, memorisation, and ∇v along
trajectories against θ_t.

python derivations/data_targets.py [--fast] [--out DIR] [--format png|svg|pdf]

For each data set (the 8×8 digits, 1,797 × 64, pixels scaled to [0, 1]; two moons, 500 × 2) and the
linear schedule:

* samples of the flow of the empirical law (σ = 0: the memorising field, stopped at 1 − ε with the W₂ cost
  reported) and of its Gaussian smoothings for a grid of σ;
* the fraction of samples within δ of a training point (memorisation) as σ grows;
* the largest eigenvalue of ∇v met along the trajectories (power iteration on the streaming field's
  Jacobian–vector products; the Rayleigh quotient is a lower estimate of λ_max) against the bound u_t of
  the data-derived classes (T-ball for σ = 0, T-conv and T-slcvx for σ > 0); every ratio must be ≤ 1;
* figures: moons samples, memorisation against σ, λ_max against the bound, a grid of digit samples.

Writes ``data_targets.json`` and four figures into ``--out``.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C  # noqa: E402  (puts the checkout on sys.path)
import numpy as np  # noqa: E402

from gifsym import GIF, schedule, target  # noqa: E402
from gifsym.io import atomic_path, write_atomic  # noqa: E402

#: σ grids (in the data's units) and the memorisation radius δ per data set.
SIGMAS = {"moons": (0.0, 0.02, 0.05, 0.1, 0.2), "digits": (0.0, 0.05, 0.1, 0.2, 0.4)}
FAST_SIGMAS = {"moons": (0.0, 0.1), "digits": (0.0, 0.2)}
DELTA = {"moons": 0.01, "digits": 0.1}
SCHEDULE = "linear"


def datasets(fast: bool) -> dict[str, np.ndarray]:
    """The two data sets (scikit-learn ships both; nothing is downloaded)."""
    from sklearn.datasets import load_digits, make_moons

    digits = load_digits().data / 16.0
    moons, _ = make_moons(n_samples=500, noise=0.05, random_state=0)
    if fast:
        digits, moons = digits[:200], moons[:100]
    return {"moons": moons, "digits": digits}


def run_one(name: str, Y: np.ndarray, sigma: float, n: int, n_path: int, iters: int) -> dict:
    from gifsym.numerics.fields import empirical_field
    from gifsym.numerics.simulate import sample_source, simulate

    flow = GIF(schedule(SCHEDULE), target("empirical", data=Y, sigma=sigma))
    start = time.perf_counter()
    res = simulate(flow, sample_source(flow, n, seed=0), save_path=n_path, rtol=1e-7, atol=1e-9)
    sim_s = time.perf_counter() - start
    dist = np.sqrt(np.maximum(((res.x**2).sum(1)[:, None] - 2 * res.x @ Y.T + (Y**2).sum(1)[None]), 0)).min(1)
    ef = empirical_field(flow)
    b = flow.bounds()
    rows = []
    for tt, xs in zip(res.ts[1:], res.path[1:]):
        lam = float(np.max(np.asarray(ef.max_eigenvalue(float(tt), xs, iters))))
        up = b.at(float(tt))["upper"]
        rows.append({"t": float(tt), "lambda_max_seen": lam, "upper": up, "theta": b.at(float(tt))["lipschitz"],
                     "ratio": lam / up if up > 0 else None})
    violations = [r for r in rows if r["lambda_max_seen"] > r["upper"] + 1e-9 * max(1.0, abs(r["upper"]))]
    return {"data": name, "sigma": sigma, "N": int(Y.shape[0]), "d": int(Y.shape[1]), "samples": n,
            "eps": res.eps, "w2_endpoint": res.w2_endpoint, "simulate_s": sim_s,
            "memorised": float((dist < DELTA[name]).mean()), "delta": DELTA[name],
            "median_nn_distance": float(np.median(dist)), "classes": [c.id for c in flow.target.classes()],
            "R": str(flow.target.law.radius), "trajectory": rows, "violations": len(violations),
            "x": res.x}


def figures(results: list[dict], data: dict[str, np.ndarray], out: str, fmt: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []

    def save(fig, stem):
        path = os.path.join(out, f"data_{stem}.{fmt}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=120, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)

    moons = [r for r in results if r["data"] == "moons"]
    fig, axes = plt.subplots(1, len(moons), figsize=(3.2 * len(moons), 3.2), squeeze=False)
    for ax, r in zip(axes[0], moons):
        ax.scatter(*data["moons"].T, s=4, c="#999999", label="training")
        ax.scatter(*r["x"].T, s=6, c="#c0392b", label="flow samples")
        ax.set_title(f"σ = {r['sigma']:g}: {100 * r['memorised']:.0f}% within δ")
        ax.set_aspect("equal")
    axes[0][0].legend(loc="lower left", fontsize=7)
    save(fig, "moons_samples")

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for name in ("moons", "digits"):
        rs = [r for r in results if r["data"] == name]
        ax.plot([r["sigma"] for r in rs], [r["memorised"] for r in rs], "o-", label=f"{name} (δ = {DELTA[name]:g})")
    ax.set_xlabel("σ (smoothing)")
    ax.set_ylabel("fraction within δ of a training point")
    ax.legend()
    save(fig, "memorisation")

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax, name in zip(axes, ("moons", "digits")):
        for r in (x for x in results if x["data"] == name):
            ts = [row["t"] for row in r["trajectory"]]
            line, = ax.plot(ts, [row["lambda_max_seen"] for row in r["trajectory"]], "-",
                            label=f"λ_max seen, σ = {r['sigma']:g}")
            ax.plot(ts, [row["upper"] for row in r["trajectory"]], "--", color=line.get_color())
        ax.set_yscale("symlog", linthresh=1.0)  # λ_max is negative early (contraction), huge near t = 1
        ax.set_title(f"{name}: λ_max(∇v) seen (—), bound u_t (--)", fontsize=9)
        ax.set_xlabel("t")
        ax.legend(fontsize=6)
    save(fig, "jacobian_vs_bound")

    digits = [r for r in results if r["data"] == "digits"]
    fig, axes = plt.subplots(len(digits), 8, figsize=(8, 1.1 * len(digits)), squeeze=False)
    for row, r in zip(axes, digits):
        for k, ax in enumerate(row):
            ax.imshow(np.clip(r["x"][k].reshape(8, 8), 0, 1), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(f"σ={r['sigma']:g}", fontsize=7)
    save(fig, "digits_samples")
    return paths


def main(argv=None) -> int:
    args = C.parse_args(__doc__.splitlines()[0], argv, figure_format=True)
    data = datasets(args.fast)
    sigmas = FAST_SIGMAS if args.fast else SIGMAS
    n, n_path, iters = (16, 5, 20) if args.fast else (400, 21, 60)
    results = []
    for name, Y in data.items():
        for sigma in sigmas[name]:
            r = run_one(name, Y, sigma, n, n_path, iters)
            results.append(r)
            worst = max((row["ratio"] or 0) for row in r["trajectory"])
            print(f"{name:6} σ={sigma:<5g} memorised {100 * r['memorised']:5.1f}%  worst λ_max/u_t {worst:.3g}  "
                  f"({r['simulate_s']:.1f} s)")
    paths = figures(results, data, args.out, args.format)
    summary = [{k: v for k, v in r.items() if k != "x"} for r in results]
    write_atomic(os.path.join(args.out, "data_targets.json"),
                 json.dumps({"schedule": SCHEDULE, "results": summary, "figures": paths}, indent=1))
    bad = sum(r["violations"] for r in results)
    if bad:
        print(f"error: {bad} times where λ_max seen exceeds the bound", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
