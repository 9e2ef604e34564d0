"""Particles sharded across devices give the single-device results to round-off.

Four CPU devices are faked with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``, which must be set
before JAX initialises its backend, so the multi-device run happens in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffrax")

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import json, os
    import numpy as np
    import jax
    from gifsym import GIF, schedule, target
    from gifsym.numerics.oracle import oracle_flow
    from gifsym.numerics.sharding import shard_particles
    from gifsym.numerics.simulate import sample_source, sample_target, simulate

    out = {"devices": jax.device_count()}
    gmm = GIF(schedule("vp"), target("gmm", weights=[0.3, 0.7], means=[[-1.0, 0.0], [1.0, 0.5]], sigma=0.4))
    flows = [("gmm", gmm)]
    if os.environ.get("GIFSYM_SHARD_ORACLE"):
        flows.append(("oracle", oracle_flow(schedule("follmer"), target("ball:R=1"), dim=2)))
    for name, flow in flows:
        x0 = np.asarray(sample_source(flow, 1001, seed=0))  # 1001 = 4·250 + 1: padding is exercised
        one = simulate(flow, x0, shard=False, stats=True)
        many = simulate(flow, x0, stats=True)  # default: shard when there are several devices
        # Reverse runs reuse the two compiled programs (times are traced arguments).
        y = np.asarray(sample_target(flow, 1001, seed=1))
        rev1 = simulate(flow, y, shard=False, reverse=True)
        rev4 = simulate(flow, y, shard=True, reverse=True)
        out[name] = {
            "diff": float(np.max(np.abs(one.x - many.x))),
            "rev_diff": float(np.max(np.abs(rev1.x - rev4.x))),
            "steps": [one.stats.num_steps, many.stats.num_steps],
            "devices": [one.stats.devices, many.stats.devices],
            "shape": list(many.x.shape),
            "scale": float(max(np.max(np.abs(one.x)), np.max(np.abs(rev1.x)))),
        }
    xs, n = shard_particles(np.zeros((5, 2)))
    out["pad"] = [n, xs.shape[0], len(xs.sharding.device_set)]
    print("RESULT" + json.dumps(out))
""")


def run_four(**extra):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), **extra)
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, cwd=ROOT, check=False,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


@pytest.fixture(scope="module")
def four_devices():
    return run_four()


def check_equal(r):
    assert r["devices"] == [1, 4]
    assert r["shape"] == [1001, 2]  # padding removed
    # The max-norm error estimate is exact in any reduction order, so both runs take the same steps...
    assert r["steps"][0] == r["steps"][1]
    # ...and each particle sees the same arithmetic up to XLA's fusion choices: agreement to a few ulps of
    # the end points' size (1e-13 relative leaves ~500 ulps; a dropped or misplaced shard is off by O(1)).
    tol = 1e-13 * max(1.0, r["scale"])
    assert r["diff"] <= tol and r["rev_diff"] <= tol


def test_four_fake_devices_exist(four_devices):
    assert four_devices["devices"] == 4


def test_sharded_equals_single_device(four_devices):
    check_equal(four_devices["gmm"])


@pytest.mark.slow
def test_sharded_oracle_equals_single_device():
    """The quadrature oracle's (n, d, nodes) arrays sharded along particles."""
    check_equal(run_four(GIFSYM_SHARD_ORACLE="1")["oracle"])


def test_padding_to_a_multiple_of_the_devices(four_devices):
    n, padded, ndev = four_devices["pad"]
    assert (n, padded, ndev) == (5, 8, 4)


def test_single_device_sharding_is_a_no_op():
    from gifsym.numerics.fields import enable_x64
    from gifsym.numerics.sharding import device_count, gather, particle_sharding, shard_particles

    enable_x64()
    x = np.arange(6.0).reshape(3, 2)
    xs, n = shard_particles(x)
    k = device_count()
    assert n == 3 and xs.shape[0] == 3 + (-3) % k
    np.testing.assert_array_equal(gather(xs)[:3], x)
    from jax.sharding import PartitionSpec

    assert particle_sharding().spec == PartitionSpec("particles", None)
