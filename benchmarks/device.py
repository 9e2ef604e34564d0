"""GPU-ready figures, side by side with the CPU of the same run (issue 23, item 4).

For the CPU and, when JAX sees one, the first GPU, in one process:

* **GEMM:** the device's float64 matrix-product rate (a square ``m × m`` product, best of a few);
* **field:** the exact streaming field of a data target (N points in d dimensions, n queries) in
  float64; its rate ``4 n N d`` flop per evaluation (the two products per chunk) as a fraction of that
  device's GEMM;
* **simulation** of many particles to t = 1 − ε (Tsit5, rtol 1e-6, max norm) for a GMM target (K = 8
  components in d = 2) and a data target (N = 1,000 points in d = 2): wall time (compilation excluded:
  each run is repeated and the second is timed) and particle-steps per second.

The CPU is measured at ``--cpu-particles`` (default 10⁴: 10⁶ particles through a data target take many
minutes on a small CPU) and the GPU at ``--particles`` (default 10⁶) and at the CPU's size, so that the
GPU/CPU ratio is given at equal size; every size is printed. Without a GPU the script says so and prints
the CPU column only. Timings depend on the machine's load: run on a quiet machine.

Run: ``python benchmarks/device.py`` (about 5 minutes on one GPU); ``--tiny`` for a seconds-long smoke run.
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


def clear_caches() -> None:
    """Fields and compiled solves are cached per flow; a data field holds its data on the device it was
    built on, so each device gets fresh ones."""
    from gifsym.numerics import fields, simulate

    fields._empirical_field.cache_clear()
    fields._compiled.cache_clear()
    simulate._compiled_solve.cache_clear()


def gemm_gflops(m: int, repeats: int) -> float:
    import jax
    import jax.numpy as jnp

    A = jnp.asarray(np.random.default_rng(2).normal(size=(m, m)))
    mm = jax.jit(lambda a: a @ a)
    mm(A).block_until_ready()
    return 2.0 * m**3 / best_time(lambda: mm(A).block_until_ready(), repeats) / 1e9


def field_gflops(N: int, d: int, n: int, repeats: int) -> float:
    import jax.numpy as jnp

    from gifsym import GIF, schedule, target
    from gifsym.numerics.fields import empirical_field

    Y = np.random.default_rng(0).normal(size=(N, d))
    ef = empirical_field(GIF(schedule("linear"), target("empirical", data=Y)))
    X = jnp.asarray(0.7 * Y[:n] + 0.3 * np.random.default_rng(1).normal(size=(n, d)))
    ef.velocity(0.7, X).block_until_ready()
    return 4.0 * n * N * d / best_time(lambda: ef.velocity(0.7, X).block_until_ready(), repeats) / 1e9


def flows():
    from gifsym import GIF, schedule, target

    rng = np.random.default_rng(4)
    means = rng.normal(scale=3.0, size=(8, 2))
    gmm = GIF(schedule("linear"), target("gmm", weights=[1 / 8] * 8, means=means.tolist(), sigma=0.5))
    data = GIF(schedule("linear"), target("empirical", data=rng.normal(size=(1000, 2))))
    return {"gmm": gmm, "data": data}


def simulation(flow, n: int) -> dict:
    from gifsym.numerics.simulate import sample_source, simulate

    x0 = np.asarray(sample_source(flow, n, seed=0))
    simulate(flow, x0, shard=False)  # compile
    res = simulate(flow, x0, shard=False, stats=True, progress=False)
    st = res.stats
    return {"n": n, "wall_s": st.wall_s, "steps": st.num_steps,
            "particle_steps_per_s": n * st.num_steps / st.wall_s}


def measure(device, *, m: int, field: tuple[int, int, int], sizes: list[int], repeats: int) -> dict:
    import jax

    clear_caches()
    with jax.default_device(device):
        out = {"device": str(device), "gemm_m": m, "gemm_gflops": gemm_gflops(m, repeats)}
        N, d, n = field
        out["field"] = {"N": N, "d": d, "queries": n, "gflops": field_gflops(N, d, n, repeats)}
        out["field"]["fraction_of_gemm"] = out["field"]["gflops"] / out["gemm_gflops"]
        out["simulate"] = {name: [simulation(flow, k) for k in sizes] for name, flow in flows().items()}
    return out


def sim_cell(r: dict | None) -> str:
    return "-" if r is None else f"{r['wall_s']:.3g} s, {r['steps']} steps"


def report(cpu: dict, gpu: dict | None) -> None:
    """Print the CPU and GPU columns side by side (the GPU's only when there is one)."""
    cols = [cpu] if gpu is None else [cpu, gpu]

    def row(label, cell, extra=""):
        print(f"{label:34}" + "".join(f"{cell(r):>30}" for r in cols) + extra)

    print(f"{'':34}" + "".join(f"{name:>30}" for name in ("CPU", "GPU")[: len(cols)]))
    row("device", lambda r: r["device"])
    row("float64 GEMM (m x m)", lambda r: f"{r['gemm_gflops']:.1f} GFLOP/s (m = {r['gemm_m']})")
    row("field N, d, queries", lambda r: f"{r['field']['N']}, {r['field']['d']}, {r['field']['queries']}")
    row("field rate, fraction of GEMM", lambda r: f"{r['field']['gflops']:.1f} GFLOP/s = {r['field']['fraction_of_gemm']:.2f}")
    for name in ("gmm", "data"):
        runs = [{s["n"]: s for s in r["simulate"][name]} for r in cols]
        for n in sorted(set().union(*runs)):
            cells = [rr.get(n) for rr in runs]
            extra = ""
            if len(cells) == 2 and all(cells):
                extra = f"   GPU/CPU speed-up {cells[0]['wall_s'] / cells[1]['wall_s']:.1f}x"
            shown = "".join(f"{sim_cell(c):>30}" for c in cells)
            print(f"{'simulate ' + name + f' n = {n:,}':34}{shown}{extra}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--particles", type=int, default=10**6, help="particles simulated on the GPU")
    ap.add_argument("--cpu-particles", type=int, default=10**4, help="particles simulated on the CPU (and on the GPU)")
    ap.add_argument("--field", default="100000,64,8192", help="N,d,queries of the GPU's field throughput")
    ap.add_argument("--cpu-field", default="20000,64,2048", help="N,d,queries of the CPU's field throughput")
    ap.add_argument("--tiny", action="store_true", help="a seconds-long smoke run (sizes of a few hundred)")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = ap.parse_args(argv)
    if args.tiny:
        args.particles, args.cpu_particles, args.field, args.cpu_field = 200, 100, "500,8,64", "500,8,64"
    field = tuple(int(v) for v in args.field.split(","))
    cpu_field = tuple(int(v) for v in args.cpu_field.split(","))
    import jax

    from gifsym.numerics.fields import enable_x64

    enable_x64()
    repeats = 2 if args.tiny else 3
    try:
        gpus = jax.devices("gpu")
    except RuntimeError:
        gpus = []
    cpu = measure(jax.devices("cpu")[0], m=256 if args.tiny else 2048, field=cpu_field, sizes=[args.cpu_particles],
                  repeats=repeats)
    gpu = None
    if gpus:
        gpu = measure(gpus[0], m=256 if args.tiny else 8192, field=field,
                      sizes=sorted({args.cpu_particles, args.particles}), repeats=repeats)
    if args.json:
        print(json.dumps({"cpu": cpu, "gpu": gpu}))
        return 0
    if not gpus:
        print("No GPU present (jax.devices('gpu') found none): CPU figures only.")
    report(cpu, gpu)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
