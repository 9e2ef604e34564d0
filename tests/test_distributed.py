"""Two real processes (``gifsym.distributed.initialize``, gloo CPU collectives, a coordinator on localhost)
give the one-process results, and each holds only its half of the data.

Each process sees one CPU device; the data target's points are split over the two (one shard each),
the particles of ``simulate`` are split by process (each passes its own half) and all-gathered.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffrax")

ROOT = Path(__file__).resolve().parents[1]

WORKER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import gifsym
    from gifsym.errors import GifsymError

    pid, port = int(sys.argv[1]), sys.argv[2]
    kw = dict(coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=pid)
    info = gifsym.distributed.initialize(**kw)
    again = gifsym.distributed.initialize(**kw)  # idempotent
    try:
        gifsym.distributed.initialize(**dict(kw, process_id=1 - pid))
        other = "accepted"
    except GifsymError as e:
        other = str(e)
    from gifsym import GIF, schedule, target
    from gifsym.numerics.fields import empirical_field
    from gifsym.numerics.simulate import sample_source, simulate

    rng = np.random.default_rng(0)
    data = rng.normal(size=(3000, 3))
    flow = GIF(schedule("linear"), target("empirical", data=data))
    ef = empirical_field(flow, chunk=256)
    x = rng.normal(size=(40, 3))
    v = ef.evaluate(0.7, x)
    # 100 points fill one chunk: the second shard is padding only
    small = empirical_field(GIF(schedule("linear"), target("empirical", data=data[:100])))
    v_small = small.evaluate(0.7, x)
    x0 = np.asarray(sample_source(flow, 64, seed=1))
    res = simulate(flow, x0[pid * 32:(pid + 1) * 32], stats=True)  # this process's particles
    own = sum(s.data.nbytes for arr in ef._data for s in arr.addressable_shards)
    total = sum(arr.nbytes for arr in ef._data)
    print("RESULT" + json.dumps({"info": info, "again": again == info, "other": other, "v": v.tolist(),
                                 "v_small": v_small.tolist(),
                                 "x": res.x.tolist(), "steps": res.stats.num_steps, "devices": res.stats.devices, "wall_s": res.stats.wall_s,
                                 "own": own, "total": total, "shards": ef.point_shards,
                                 "host_data": data.nbytes}))
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_two(script: str) -> list[dict]:
    """Run ``script`` as processes 0 and 1 of one run; their ``RESULT`` JSON lines."""
    port = free_port()
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(i), str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT) for i in (0, 1)]
    out = []
    try:
        for p in procs:
            stdout, stderr = p.communicate(timeout=600)
            assert p.returncode == 0, stderr[-3000:]
            line = next(ln for ln in stdout.splitlines() if ln.startswith("RESULT"))
            out.append(json.loads(line[len("RESULT"):]))
    finally:
        for p in procs:  # SIGKILL: jax.distributed handles SIGTERM itself (preemption notices)
            if p.poll() is None:
                p.kill()
    return out


@pytest.fixture(scope="module")
def two_processes():
    return run_two(WORKER)


@pytest.fixture(scope="module")
def one_process():
    from gifsym import GIF, schedule, target
    from gifsym.numerics.fields import empirical_field
    from gifsym.numerics.simulate import sample_source, simulate

    rng = np.random.default_rng(0)
    data = rng.normal(size=(3000, 3))
    flow = GIF(schedule("linear"), target("empirical", data=data))
    ef = empirical_field(flow, chunk=256)
    assert ef.point_shards == 1
    x = rng.normal(size=(40, 3))
    v = ef.evaluate(0.7, x)
    v_small = empirical_field(GIF(schedule("linear"), target("empirical", data=data[:100]))).evaluate(0.7, x)
    res = simulate(flow, np.asarray(sample_source(flow, 64, seed=1)), stats=True, shard=False)
    return v, v_small, res


def test_two_processes_joined(two_processes):
    for pid, r in enumerate(two_processes):
        assert r["info"] == {"process_index": pid, "process_count": 2, "local_devices": 1, "devices": 2}
        assert r["again"]
        assert "already called" in r["other"]
        assert r["shards"] == 2 and r["devices"] == 2


def test_two_processes_equal_one(two_processes, one_process):
    v, v_small, res = one_process
    for r in two_processes:
        assert np.all(np.isfinite(r["v_small"]))  # a shard of padding only: weight 0, not NaN
        assert np.max(np.abs(np.array(r["v_small"]) - v_small)) <= 1e-12
        # Each shard's running log-sum-exp is merged once more than in one scan over all chunks: the same
        # terms summed in another order, so round-off only (1e-12 leaves ~4,000 ulps of the O(1) values; a
        # lost shard or a wrong merge changes the velocity at O(1), a missing particle the shape).
        assert np.max(np.abs(np.array(r["v"]) - v)) <= 1e-12
        assert r["steps"] == res.stats.num_steps  # the max-norm error is exact in any order: same steps
        x = np.array(r["x"])
        assert x.shape == res.x.shape == (64, 3)
        assert np.max(np.abs(x - res.x)) <= 1e-12 * max(1.0, float(np.max(np.abs(res.x))))


def test_each_process_holds_half_the_data(two_processes):
    for r in two_processes:
        # 3000 points in chunks of 256: 12 chunks, 6 per shard, so exactly half (padding included).
        assert r["own"] * 2 == r["total"]
        assert r["total"] >= r["host_data"]  # the data, their norms and log-weights: all of them counted


def test_bad_arguments_are_refused_before_jax_is_touched():
    from gifsym.errors import GifsymError
    from gifsym.numerics import distributed

    for kw in ({"num_processes": 0}, {"process_id": -1}, {"num_processes": 2, "process_id": 2},
               {"coordinator_address": "localhost"}, {"coordinator_address": 1234},
               {"local_device_ids": [0, -1]}, {"num_processes": True}, {"initialization_timeout": 0}):
        with pytest.raises(GifsymError):
            distributed.initialize(**kw)
    with pytest.raises(TypeError):  # keyword-only
        distributed.initialize("127.0.0.1:1234", 2, 0)
    assert not distributed.is_initialized()


def test_jax_already_in_use_is_a_clear_error():
    import jax.numpy as jnp

    from gifsym.errors import GifsymError
    from gifsym.numerics import distributed

    jnp.zeros(1).block_until_ready()  # the backend is running: JAX refuses to join a run now
    with pytest.raises(GifsymError, match="jax.distributed.initialize failed"):
        distributed.initialize(coordinator_address=f"127.0.0.1:{free_port()}", num_processes=2, process_id=0,
                               initialization_timeout=5)
    assert not distributed.is_initialized()


def test_top_level_is_lazy():
    code = "import sys, gifsym; gifsym.distributed.initialize; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


VERIFY = textwrap.dedent("""
    import json, sys
    import numpy as np
    import gifsym

    pid, port = int(sys.argv[1]), sys.argv[2]
    gifsym.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=pid)
    from gifsym import GIF, schedule, target, verify

    data = np.random.default_rng(0).normal(size=(300, 2))
    flow = GIF(schedule("linear"), target("empirical", data=data))
    rep = verify(flow, samples=40, seed=0, checks=["velocity", "jacobian"])
    print("RESULT" + json.dumps(rep.to_dict(), default=str))
""")


def _numbers(obj, path=""):
    """Every number of a report's dict, by path (wall times left out)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if "wall" not in k and "seconds" not in k:
                yield from _numbers(v, f"{path}/{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _numbers(v, f"{path}/{i}")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, float(obj)


@pytest.mark.slow
def test_verify_on_two_processes_equals_one():
    """verify's velocity and Jacobian checks of a data target, its points split over two processes."""
    from gifsym import GIF, schedule, target, verify

    data = np.random.default_rng(0).normal(size=(300, 2))
    one = verify(GIF(schedule("linear"), target("empirical", data=data)), samples=40, seed=0,
                 checks=["velocity", "jacobian"]).to_dict()
    ref = dict(_numbers(one))
    for r in run_two(VERIFY):
        assert r["passed"] == one["passed"]
        got = dict(_numbers(r))
        assert set(got) == set(ref)
        for k, v in ref.items():
            # the checks' errors are differences of two routes (~1e-14): compared at 1e-12 absolute plus
            # 1e-10 relative, round-off in the merged log-sum-exp only
            assert abs(got[k] - v) <= 1e-12 + 1e-10 * abs(v), k
