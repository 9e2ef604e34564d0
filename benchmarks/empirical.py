"""Data targets at scale (issue 13): field throughput, growth in N, simulation against peers.

* **Throughput.** The streaming field of the empirical law (:mod:`gifsym.numerics.empirical_field`) for
  N = 10⁵ points in d = 64 at n = 10⁴ queries costs two (n×d)·(d×C) products per chunk of C points, i.e.
  ``4 n N d`` flops. Printed: its flop rate as a fraction of this machine's float64 matrix product, measured
  two ways in the same process: (i) a large square GEMM (the machine's peak-ish rate), (ii) the same
  chunked scan doing only the two products (what the field could reach with free exponentials). Goal:
  ≥ 0.5 of (i).
* **Growth.** N = 10³ … 10⁶ (d = 64, 10³ queries): time per evaluation and the memory the layout needs
  (data + tiles, :meth:`EmpiricalField.memory_bytes`; on an accelerator also the device's peak bytes);
  the fitted exponent of time against N (goal: 1, linear) and memory at N = 10⁶ (goal < 4 GiB).
* **Simulation** of 10⁴ samples through the smoothed field of N = 10³ points in d = 2 (finite at t = 1,
  linear schedule) to t = 1: gifsym (diffrax Tsit5, jitted), ``scipy.integrate.solve_ivp`` (RK45 on the
  same jitted field, flattened state) and torchdiffeq (dopri5 on a torch implementation of the same
  field), each swept over tolerances; the error of each run is measured against a tight reference
  (gifsym, Dopri8, rtol 1e-12) — not against each other — and the time to reach an RMS end-point error
  ≤ ``--accuracy`` is compared.

* **Large** (``--large N,d,dtype``, e.g. ``--large 1000000,1024,float32``): the field at a size near the
  machine's memory: generation, the law's copy, the layout, the velocity and a JVP at 64 queries (time and
  the process's resident memory), and their error against an independent NumPy float64 computation at 8
  of the queries (half near data points, half far). The caller's array is dropped once the law holds its
  copy, as a user with large data would do.

Timings are printed, not asserted (they depend on the machine and its load); run on a quiet machine.

Run: ``python benchmarks/empirical.py`` (full) or ``python benchmarks/empirical.py --smoke`` (seconds).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def best_time(fn, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def peak_rss_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def make_field(N: int, d: int, *, sigma: float = 0.0, seed: int = 0, dtype: str = "float64"):
    from gifsym import GIF, schedule, target
    from gifsym.numerics.fields import empirical_field

    Y = np.random.default_rng(seed).normal(size=(N, d))
    flow = GIF(schedule("linear"), target("empirical", data=Y, sigma=sigma))
    return flow, empirical_field(flow, dtype=dtype), Y


def throughput(N: int, d: int, n: int, repeats: int) -> dict:
    import jax
    import jax.numpy as jnp

    _, ef, Y = make_field(N, d)
    X = jnp.asarray(0.7 * Y[:n] + 0.3 * np.random.default_rng(1).normal(size=(n, d)))
    ef.velocity(0.7, X).block_until_ready()
    t_field = best_time(lambda: ef.velocity(0.7, X).block_until_ready(), repeats)
    flops = 4.0 * n * N * d

    # (i) A square float64 GEMM.
    m = 2048
    A = jnp.asarray(np.random.default_rng(2).normal(size=(m, m)))
    mm = jax.jit(lambda a: a @ a)
    mm(A).block_until_ready()
    gemm_rate = 2.0 * m**3 / best_time(lambda: mm(A).block_until_ready(), repeats)

    # (ii) The field's scan with only its two products.
    Yc, _, _ = ef._data

    @jax.jit
    def products(x, Yc):  # the data as an argument, as the field's kernels take them (not a constant)
        def step(S, Yb):
            return S + (x @ Yb.T) @ Yb, None

        return jax.lax.scan(step, jnp.zeros_like(x), Yc)[0]

    products(X, Yc).block_until_ready()
    t_products = best_time(lambda: products(X, Yc).block_until_ready(), repeats)
    rate = flops / t_field
    return {"N": N, "d": d, "queries": n, "field_s": t_field, "field_gflops": rate / 1e9,
            "gemm_gflops": gemm_rate / 1e9, "fraction_of_gemm": rate / gemm_rate,
            "products_only_s": t_products, "fraction_of_products_only": t_products / t_field,
            "chunk": ef.chunk, "memory_bytes": ef.memory_bytes(n)}


def growth(sizes, d: int, n: int, repeats: int) -> dict:
    import jax
    import jax.numpy as jnp

    rows = []
    for N in sizes:
        _, ef, Y = make_field(N, d, seed=3)
        X = jnp.asarray(np.random.default_rng(4).normal(size=(n, d)))
        ef.velocity(0.5, X).block_until_ready()
        t = best_time(lambda ef=ef, X=X: ef.velocity(0.5, X).block_until_ready(), repeats)
        stats = jax.devices()[0].memory_stats() or {}
        # The process's peak resident memory so far (sizes grow, so at the largest N it is that N's
        # peak, data generation included): a measurement beside the layout's stated bytes.
        rows.append({"N": N, "seconds": t, "memory_bytes": ef.memory_bytes(n),
                     "process_peak_rss_bytes": peak_rss_bytes(),
                     "device_peak_bytes": stats.get("peak_bytes_in_use")})
        del ef
    logN = np.log([r["N"] for r in rows])
    logt = np.log([r["seconds"] for r in rows])
    slope = float(np.polyfit(logN[1:], logt[1:], 1)[0]) if len(rows) > 2 else float("nan")
    return {"d": d, "queries": n, "rows": rows, "exponent": slope,
            "memory_at_largest_GiB": rows[-1]["memory_bytes"] / 2**30}


def torch_field(Y: np.ndarray, sigma: float, chunk: int = 2048):
    """The same smoothed empirical field (linear schedule) written in torch, chunked log-sum-exp."""
    import torch

    Yt = torch.tensor(Y, dtype=torch.float64)
    q = (Yt * Yt).sum(1)
    lam = sigma**2

    def f(t, x):
        a, b, da, db = 1 - t, t, -1.0, 1.0
        s = a * a + lam * b * b
        cx, cm = (a * da + lam * b * db) / s, a * (a * db - da * b) / s
        M = torch.full((x.shape[0],), -math.inf, dtype=torch.float64)
        Z = torch.zeros(x.shape[0], dtype=torch.float64)
        S = torch.zeros_like(x)
        for lo in range(0, Yt.shape[0], chunk):
            Yb, qb = Yt[lo:lo + chunk], q[lo:lo + chunk]
            L = (x @ Yb.T) * (b / s) - qb * (b * b / (2 * s))
            Mn = torch.maximum(M, L.max(1).values)
            sc = torch.exp(M - Mn)
            E = torch.exp(L - Mn[:, None])
            Z, S, M = Z * sc + E.sum(1), S * sc[:, None] + E @ Yb, Mn
        return cx * x + cm * S / Z[:, None]

    return f


def simulation(N: int, n: int, accuracy: float, rtols) -> dict:
    import jax.numpy as jnp
    from scipy.integrate import solve_ivp

    from gifsym.numerics.simulate import sample_source, simulate

    sigma = 0.1
    flow, ef, Y = make_field(N, 2, sigma=sigma, seed=5)
    x0 = np.asarray(sample_source(flow, n, seed=6))
    ref = simulate(flow, x0, solver="dopri8", rtol=1e-12, atol=1e-14).x

    def err(x):
        return float(np.sqrt(np.mean((x - ref) ** 2)))

    out = {"N": N, "samples": n, "sigma": sigma, "accuracy": accuracy, "runs": {}}
    # gifsym: compile once (times and tolerances are traced), then time.
    runs = []
    for rtol in rtols:
        simulate(flow, x0, rtol=rtol, atol=rtol * 1e-3)
        t0 = time.perf_counter()
        x = simulate(flow, x0, rtol=rtol, atol=rtol * 1e-3).x
        runs.append({"rtol": rtol, "seconds": time.perf_counter() - t0, "error": err(x)})
    out["runs"]["gifsym (diffrax tsit5)"] = runs

    field = ef.velocity
    runs = []
    for rtol in rtols:
        t0 = time.perf_counter()
        sol = solve_ivp(lambda tt, y: np.asarray(field(tt, jnp.asarray(y.reshape(n, 2)))).ravel(), (0.0, 1.0),
                        x0.ravel(), method="RK45", rtol=rtol, atol=rtol * 1e-3)
        runs.append({"rtol": rtol, "seconds": time.perf_counter() - t0, "error": err(sol.y[:, -1].reshape(n, 2)),
                     "nfev": int(sol.nfev)})
    out["runs"]["scipy solve_ivp (RK45)"] = runs

    try:
        import torch
        from torchdiffeq import odeint
    except ImportError:
        out["runs"]["torchdiffeq"] = "not installed (pip install torchdiffeq)"
    else:
        f = torch_field(Y, sigma)
        y0 = torch.tensor(x0, dtype=torch.float64)
        ts = torch.tensor([0.0, 1.0], dtype=torch.float64)
        runs = []
        for rtol in rtols:
            t0 = time.perf_counter()
            with torch.no_grad():
                y = odeint(lambda tt, y: f(float(tt), y), y0, ts, method="dopri5", rtol=rtol, atol=rtol * 1e-3)
            runs.append({"rtol": rtol, "seconds": time.perf_counter() - t0, "error": err(y[-1].numpy())})
        out["runs"]["torchdiffeq (dopri5)"] = runs

    for name, runs in out["runs"].items():
        if isinstance(runs, list):
            ok = [r for r in runs if r["error"] <= accuracy]
            out.setdefault("time_to_accuracy", {})[name] = min((r["seconds"] for r in ok), default=None)
    return out


def resident() -> str:
    with open("/proc/self/statm") as f:
        now = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return f"{now / 2**30:.2f} GiB resident, peak {peak_rss_bytes() / 2**30:.2f} GiB"


def large(N: int, d: int, dtype: str, n: int = 64) -> dict:
    from gifsym import GIF, schedule, target
    from gifsym.numerics.fields import empirical_field

    rng = np.random.default_rng(0)
    out = {"N": N, "d": d, "dtype": dtype, "queries": n}
    t0 = time.perf_counter()
    Y = np.empty((N, d))
    for lo in range(0, N, 50_000):
        Y[lo:lo + 50_000] = rng.normal(size=(min(50_000, N - lo), d))
    print(f"large: data {Y.nbytes / 2**30:.2f} GiB generated in {time.perf_counter() - t0:.1f} s; "
          f"{resident()}")
    t0 = time.perf_counter()
    flow = GIF(schedule("linear"), target("empirical", data=Y, sigma=0))
    del Y  # the law holds its own copy
    Y = flow.target.law.points
    print(f"large: target (validated, copied, hashed) in {time.perf_counter() - t0:.1f} s; {resident()}")
    t0 = time.perf_counter()
    ef = empirical_field(flow, dtype=dtype)
    out["layout_s"], out["layout_stated_bytes"] = time.perf_counter() - t0, ef.layout_bytes()
    print(f"large: layout ({dtype}) in {out['layout_s']:.1f} s, stated {ef.layout_bytes() / 2**30:.2f} GiB; "
          f"{resident()}")
    t = 0.7
    near = t * Y[:n // 2] + 0.3 * rng.normal(size=(n // 2, d))
    X = np.concatenate([near, rng.normal(size=(n - n // 2, d))])
    U = rng.normal(size=(n, d))
    v, jvp = ef.velocity, ef.jvp
    np.asarray(v(t, X)), np.asarray(jvp(t, X, U)[1])  # compile
    out["velocity_s"] = best_time(lambda: np.asarray(v(t, X)), 2)
    out["jvp_s"] = best_time(lambda: np.asarray(jvp(t, X, U)[1]), 2)
    V, J = np.asarray(v(t, X)), np.asarray(jvp(t, X, U)[1])
    print(f"large: velocity {out['velocity_s']:.2f} s, JVP {out['jvp_s']:.2f} s at {n} queries; {resident()}")
    # Independent reference (linear schedule: a = 1 − t, b = t): posterior weights over all N points,
    # v = (ȧ/a) x + (ḃ − ȧ b/a) m, ∇v u = (ȧ/a) u + (ḃ − ȧ b/a)(b/a²) Cov u; no N × d temporaries.
    a, b, da, db = 1 - t, t, -1.0, 1.0
    sq = np.einsum("ij,ij->i", Y, Y)
    err_v = err_j = 0.0
    for k in [*range(4), *range(n // 2, n // 2 + 4)]:
        logits = (b / a**2) * (Y @ X[k]) - (b * b / (2 * a**2)) * sq
        w = np.exp(logits - logits.max())
        w /= w.sum()
        m = w @ Y
        g = Y @ U[k] - m @ U[k]
        cov_u = (w * g) @ Y - np.sum(w * g) * m
        ref_v = (da / a) * X[k] + (db - da * b / a) * m
        ref_j = (da / a) * U[k] + (db - da * b / a) * (b / a**2) * cov_u
        err_v = max(err_v, float(np.max(np.abs(V[k] - ref_v)) / (1 + np.max(np.abs(ref_v)))))
        err_j = max(err_j, float(np.max(np.abs(J[k] - ref_j)) / (1 + np.max(np.abs(ref_j)))))
    out["velocity_error"], out["jvp_error"], out["peak_rss_bytes"] = err_v, err_j, peak_rss_bytes()
    print(f"large: error vs NumPy float64 at 8 queries (relative to 1 + |ref|): velocity {err_v:.2e}, "
          f"JVP {err_j:.2e}")
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="tiny sizes: checks that the script runs (seconds)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--accuracy", type=float, default=1e-6, help="RMS end-point error to reach (simulation)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--large", metavar="N,d,dtype", help="only the large-data run, e.g. 1000000,1024,float32")
    args = p.parse_args(argv)
    from gifsym.numerics.fields import enable_x64

    enable_x64()
    if args.large:
        N, d, dtype = args.large.split(",")
        res = large(int(N), int(d), dtype)
        if args.json:
            from gifsym.io import write_atomic

            write_atomic(args.json, json.dumps(res, indent=1))
        return 0
    if args.smoke:
        res = {"throughput": throughput(2000, 16, 500, 1),
               "growth": growth([500, 1000, 2000], 16, 100, 1),
               "simulation": simulation(200, 200, 1e-4, (1e-4, 1e-6))}
    else:
        res = {"throughput": throughput(100_000, 64, 10_000, args.repeats),
               "growth": growth([1_000, 10_000, 100_000, 1_000_000], 64, 1_000, args.repeats),
               "simulation": simulation(1_000, 10_000, args.accuracy, (1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9))}
    th, gr, sim = res["throughput"], res["growth"], res["simulation"]
    print(f"throughput: N={th['N']} d={th['d']} n={th['queries']}: field {th['field_s']:.3f} s = "
          f"{th['field_gflops']:.1f} GFLOP/s; float64 GEMM {th['gemm_gflops']:.1f} GFLOP/s -> fraction "
          f"{th['fraction_of_gemm']:.2f} (goal >= 0.5); products-only scan / field = "
          f"{th['fraction_of_products_only']:.2f}")
    for r in gr["rows"]:
        print(f"growth: N={r['N']:>8}  {r['seconds'] * 1e3:9.2f} ms  memory {r['memory_bytes'] / 2**20:8.1f} MiB"
              f"  process peak RSS {r['process_peak_rss_bytes'] / 2**20:8.1f} MiB"
              + (f"  device peak {r['device_peak_bytes'] / 2**20:.1f} MiB" if r["device_peak_bytes"] else ""))
    print(f"growth: time ~ N^{gr['exponent']:.2f} (goal 1); memory at the largest N "
          f"{gr['memory_at_largest_GiB']:.2f} GiB (goal < 4)")
    for name, runs in sim["runs"].items():
        if isinstance(runs, str):
            print(f"simulation: {name}: {runs}")
            continue
        cells = ", ".join(f"rtol {r['rtol']:.0e}: {r['seconds']:.2f} s err {r['error']:.1e}" for r in runs)
        print(f"simulation: {name}: {cells}")
    print(f"simulation: time to RMS error <= {sim['accuracy']:g}: " + ", ".join(
        f"{k} {'n/a' if v is None else f'{v:.2f} s'}" for k, v in sim.get("time_to_accuracy", {}).items()))
    if args.json:
        from gifsym.io import write_atomic

        write_atomic(args.json, json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
