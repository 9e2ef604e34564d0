"""GMM velocity-field throughput against this machine's float64 matmul throughput, measured in one run.

Field: N = 20000 points, K = 64 isotropic components, d = 64, float64. The field's useful work is two
(N×d)·(d×K) matrix products (log-densities and the mean of the component means), i.e. 4·N·d·K flops; the
ratio printed is (those flops per second of the field) / (flops per second of a large float64 matmul),
so 1.0 would mean the field runs at matmul speed. Also printed: the speed-up over a straightforward
NumPy implementation (per-component loop, as one would first write it).

Run: ``python benchmarks/velocity.py [--n 20000 --k 64 --d 64 --repeats 20]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def best_time(fn, repeats: int) -> float:
    fn()  # warm-up (compilation)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--k", type=int, default=64)
    p.add_argument("--d", type=int, default=64)
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args()

    import jax
    import jax.numpy as jnp

    from gifsym import GIF

    from gifsym import schedule
    from gifsym.symbolic.target import gmm

    rng = np.random.default_rng(0)
    n, K, d = args.n, args.k, args.d
    weights = rng.dirichlet(np.ones(K))
    weights /= weights.sum()
    means = rng.normal(size=(K, d)) * 2
    sigmas = rng.uniform(0.3, 1.0, size=K)
    t0 = time.perf_counter()
    tg = gmm(weights=weights.tolist(), means=means.tolist(), sigmas=sigmas.tolist())
    flow = GIF(schedule("linear"), tg)
    v = flow.field()
    x = jnp.asarray(rng.normal(size=(n, d)))
    v(0.5, x).block_until_ready()
    setup = time.perf_counter() - t0

    t_field = best_time(lambda: v(0.5, x).block_until_ready(), args.repeats)
    field_flops = 4.0 * n * d * K / t_field

    # Machine float64 matmul throughput (XLA on the same backend, a large square product).
    m = 2048
    A = jnp.asarray(rng.normal(size=(m, m)))
    mm = jax.jit(lambda a: a @ a)
    t_mm = best_time(lambda: mm(A).block_until_ready(), max(3, args.repeats // 4))
    mm_flops = 2.0 * m**3 / t_mm

    # Straightforward NumPy: loop over components, as a first implementation would.
    W, M, S = np.asarray(weights), np.asarray(means), np.asarray(sigmas)
    xn = np.asarray(x)
    tt = 0.5
    a, b, da, db = 1 - tt, tt, -1.0, 1.0

    def numpy_field():
        logits = np.empty((n, K))
        for k in range(K):
            s = a * a + b * b * S[k] ** 2
            r = xn - b * M[k]
            logits[:, k] = np.log(W[k]) - 0.5 * d * np.log(s) - 0.5 * np.sum(r * r, axis=1) / s
        R = np.exp(logits - logits.max(1, keepdims=True))
        R /= R.sum(1, keepdims=True)
        out = np.zeros_like(xn)
        for k in range(K):
            s = a * a + b * b * S[k] ** 2
            cx = (a * da + S[k] ** 2 * b * db) / s
            cm = a * (a * db - da * b) / s
            out += R[:, k : k + 1] * (cx * xn + cm * M[k])
        return out

    t_np = best_time(numpy_field, max(3, args.repeats // 4))
    err = float(np.max(np.abs(numpy_field() - np.asarray(v(tt, x)))))

    print(f"backend: {jax.default_backend()}  devices: {jax.devices()}")
    print(f"GMM field N={n} K={K} d={d} float64 (setup incl. derivation + compile: {setup:.2f} s)")
    print(f"  field time           {t_field * 1e3:9.2f} ms   ({field_flops / 1e9:.2f} GFLOP/s useful)")
    print(f"  float64 matmul       {mm_flops / 1e9:9.2f} GFLOP/s ({m}x{m})")
    print(f"  fraction of matmul   {field_flops / mm_flops:9.3f}   (goal >= 0.3)")
    print(f"  NumPy loop time      {t_np * 1e3:9.2f} ms")
    print(f"  speed-up over NumPy  {t_np / t_field:9.2f}x")
    print(f"  max |JAX - NumPy|    {err:.2e}")


if __name__ == "__main__":
    main()
