"""Simulation speed: gifsym (diffrax, jitted) against scipy.integrate.solve_ivp, and the lambdified field
against a hand-written JAX field, in one run.

Problem (issue 4): a GMM target with K = 8 isotropic components in d = 2, N = 10⁴ particles, the linear
schedule, from t = 0 to t₁ = 0.999, rtol 1e-6 (atol 1e-9).

* **diffrax vs solve_ivp, same method, same field, same tolerance.** scipy's RK45 is the Dormand–Prince
  5(4) pair with an RMS error norm over the whole state; gifsym runs ``solver="dopri5", norm="rms"`` (the
  same pair and norm) and also its defaults (Tsit5, max norm, which controls every particle). scipy calls
  the same jitted JAX field on the flattened state. Printed: wall times (gifsym's after compilation; the
  compile time separately), the speed-up, and the largest end-point difference, plus each run's error
  against a tight reference solve (rtol 1e-12).
* **Lambdified vs hand-written field.** gifsym's field evaluates time coefficients lambdified from SymPy
  (with common subexpressions eliminated) inside a mixture kernel; the hand-written field below codes the
  same mixture for a = 1 − t, b = t directly. Printed: time per field evaluation (N = 10⁴) and per full
  simulation, and the ratio lambdified / hand-written (goal ≤ 1.2).

Ratios are printed, not asserted (timings depend on the machine and its load).

Run: ``python benchmarks/simulate.py [--n 10000 --repeats 5]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def race(fns: dict, repeats: int) -> dict:
    """Best wall time of each callable, measured in interleaved rounds (so load changes on a shared machine
    hit every contender alike)."""
    best = {k: float("inf") for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def hand_written_field(weights: np.ndarray, means: np.ndarray, sigma: float):
    """v(t, x) for the linear schedule, written by hand: per component ``c_x x + c_m m_k`` with
    ``c_x = (aȧ + σ²bḃ)/s``, ``c_m = a(aḃ − ȧb)/s``, ``s = a² + σ²b²`` (math.md §4), mixed by the
    responsibilities (a softmax of the component log-densities)."""
    import jax
    import jax.numpy as jnp

    M = jnp.asarray(means)
    logw = jnp.log(jnp.asarray(weights))
    lam = sigma**2
    msq = jnp.sum(M * M, axis=1)

    @jax.jit
    def v(t, x):
        a, b, da, db = 1.0 - t, t, -1.0, 1.0
        s = a * a + lam * b * b
        cx = (a * da + lam * b * db) / s
        cm = a * (a * db - da * b) / s
        sq = jnp.sum(x * x, axis=1)[:, None] - 2 * b * (x @ M.T) + (b * b) * msq[None, :]
        r = jax.nn.softmax(logw - 0.5 * sq / s, axis=1)
        return cx * x + cm * (r @ M)

    return v


def numpy_field(weights: np.ndarray, means: np.ndarray, sigma: float):
    """The same hand-written field in NumPy: what a solve_ivp user without JAX would write."""
    logw, lam, msq = np.log(weights), sigma**2, np.sum(means * means, axis=1)

    def v(t, x):
        a, b, da, db = 1.0 - t, t, -1.0, 1.0
        s = a * a + lam * b * b
        cx, cm = (a * da + lam * b * db) / s, a * (a * db - da * b) / s
        logits = logw - 0.5 * (np.sum(x * x, axis=1)[:, None] - 2 * b * (x @ means.T) + (b * b) * msq) / s
        r = np.exp(logits - logits.max(axis=1, keepdims=True))
        r /= r.sum(axis=1, keepdims=True)
        return cx * x + cm * (r @ means)

    return v


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--t1", type=float, default=0.999)
    p.add_argument("--rtol", type=float, default=1e-6)
    p.add_argument("--atol", type=float, default=1e-9)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()

    import jax
    from scipy.integrate import solve_ivp

    from gifsym import GIF

    from gifsym import schedule

    from gifsym import target
    from gifsym.numerics.simulate import integrate, sample_source

    rng = np.random.default_rng(0)
    K, d, n = args.k, 2, args.n
    angles = 2 * np.pi * np.arange(K) / K
    means = np.stack([3 * np.cos(angles), 3 * np.sin(angles)], axis=1).round(6)
    weights = rng.dirichlet(np.full(K, 5.0)).round(6)
    weights[-1] = 1 - weights[:-1].sum()
    sigma = 0.4
    flow = GIF(schedule("linear"), target("gmm", weights=weights.tolist(), means=means.tolist(), sigma=sigma))
    x0 = np.asarray(sample_source(flow, n, seed=0))
    field = flow.field()
    print(f"GMM K={K}, d={d}, N={n}, linear schedule, t in [0, {args.t1}], rtol={args.rtol:g}, atol={args.atol:g}")
    print(f"devices: {jax.device_count()} x {jax.devices()[0].platform}")

    def gifsym_run(solver, norm, fn=field, rtol=args.rtol, atol=args.atol):
        return lambda: integrate(fn, x0, 0.0, args.t1, solver=solver, norm=norm, rtol=rtol, atol=atol)

    ref = gifsym_run("dopri8", "max", rtol=1e-12, atol=1e-14)()[0]
    hand = hand_written_field(weights, means, sigma)

    calls = [0]

    def rhs(t, y):
        calls[0] += 1
        return np.asarray(field(t, y.reshape(n, d))).ravel()

    def scipy_run():
        calls[0] = 0
        return solve_ivp(rhs, (0.0, args.t1), x0.ravel(), method="RK45", rtol=args.rtol, atol=args.atol)

    vnp = numpy_field(weights, means, sigma)

    def scipy_numpy_run():
        return solve_ivp(lambda t, y: vnp(t, y.reshape(n, d)).ravel(), (0.0, args.t1), x0.ravel(), method="RK45",
                         rtol=args.rtol, atol=args.atol)

    runs = {"same": gifsym_run("dopri5", "rms"), "default": gifsym_run("tsit5", "max"),
            "hand": gifsym_run("tsit5", "max", fn=hand), "scipy": scipy_run, "scipy-numpy": scipy_numpy_run}
    first = {}
    for k, fn in runs.items():  # first calls: compilation (and scipy's warm-up of the field for its argument types)
        t0 = time.perf_counter()
        first[k] = (fn(), time.perf_counter() - t0)
    best = race(runs, args.repeats)

    for label, k in (("gifsym dopri5 (rms norm, as scipy)", "same"), ("gifsym tsit5 (max norm, default)", "default")):
        x, _, _, st, _ = first[k][0]
        print(f"{label:38s} {best[k]:8.3f} s  (first call incl. compilation {first[k][1]:.2f} s)  steps {st[0]} "
              f"({st[2]} rejected)  max |x - ref| {np.max(np.abs(x - ref)):.2e}")
    sol = first["scipy"][0]
    xs = sol.y[:, -1].reshape(n, d)
    print(f"{'scipy solve_ivp RK45 (same jitted field)':38s} {best['scipy']:8.3f} s  accepted steps {sol.t.size - 1}  "
          f"field calls {sol.nfev}  max |x - ref| {np.max(np.abs(xs - ref)):.2e}")
    xn = first["scipy-numpy"][0].y[:, -1].reshape(n, d)
    print(f"{'scipy solve_ivp RK45 (NumPy field)':38s} {best['scipy-numpy']:8.3f} s  max |x - ref| "
          f"{np.max(np.abs(xn - ref)):.2e}")
    x_same, x_def = first["same"][0][0], first["default"][0][0]
    print(f"speed-up over solve_ivp on the jitted field: dopri5/rms {best['scipy'] / best['same']:.1f}x, "
          f"tsit5/max {best['scipy'] / best['default']:.1f}x (goal >= 5x)")
    print(f"speed-up over solve_ivp on the NumPy field:  dopri5/rms {best['scipy-numpy'] / best['same']:.1f}x, "
          f"tsit5/max {best['scipy-numpy'] / best['default']:.1f}x")
    print(f"max end-point difference gifsym dopri5 vs solve_ivp: {np.max(np.abs(x_same - xs)):.2e}; "
          f"gifsym tsit5 vs solve_ivp: {np.max(np.abs(x_def - xs)):.2e}")

    # -- lambdified vs hand-written field ------------------------------------------------------------------
    xj = jax.numpy.asarray(x0)
    diff = max(float(np.max(np.abs(np.asarray(field(tt, xj)) - np.asarray(hand(tt, xj))))) for tt in (0.0, 0.5, 0.999))
    for f in (field, hand):
        f(0.3, xj).block_until_ready()
    reps = 200
    ev = race({"lam": lambda: [field(0.3, xj).block_until_ready() for _ in range(reps)],
               "hand": lambda: [hand(0.3, xj).block_until_ready() for _ in range(reps)]}, args.repeats)
    t_lam, t_hand = ev["lam"] / reps, ev["hand"] / reps
    print(f"field evaluation (N={n}): lambdified {t_lam * 1e3:.3f} ms, hand-written {t_hand * 1e3:.3f} ms, "
          f"ratio {t_lam / t_hand:.2f} (goal <= 1.2); max |difference| {diff:.1e}")
    print(f"full simulation (tsit5): lambdified {best['default']:.3f} s, hand-written {best['hand']:.3f} s, "
          f"ratio {best['default'] / best['hand']:.2f} (goal <= 1.2)")


if __name__ == "__main__":
    main()
