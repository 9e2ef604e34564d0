"""``benchmarks/device.py`` runs (tiny sizes) on whatever devices are present and prints CPU and GPU side by
side; nothing here needs a GPU."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("diffrax")

ROOT = Path(__file__).resolve().parents[1]


def load():
    spec = importlib.util.spec_from_file_location("device_benchmark", ROOT / "benchmarks" / "device.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def tiny():
    out = subprocess.run([sys.executable, "benchmarks/device.py", "--tiny", "--json"], capture_output=True, text=True,
                         cwd=ROOT, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_tiny_run_measures_the_cpu(tiny):
    cpu = tiny["cpu"]
    assert cpu["device"].startswith("TFRT_CPU") or "cpu" in cpu["device"].lower()
    assert cpu["gemm_gflops"] > 0 and cpu["field"]["gflops"] > 0
    assert cpu["field"]["fraction_of_gemm"] == pytest.approx(cpu["field"]["gflops"] / cpu["gemm_gflops"])
    for name in ("gmm", "data"):
        (run,) = cpu["simulate"][name]
        assert run["n"] == 100 and run["steps"] > 0 and run["wall_s"] > 0
    # no GPU here (the test does not depend on one): the GPU column is absent, or complete when present
    assert tiny["gpu"] is None or set(tiny["gpu"]) == set(cpu)


def test_report_puts_gpu_beside_cpu(tiny, capsys):
    mod = load()
    gpu = json.loads(json.dumps(tiny["cpu"]))
    gpu["device"] = "cuda:0"
    for runs in gpu["simulate"].values():
        runs[0]["wall_s"] = runs[0]["wall_s"] / 4  # four times as fast: the speed-up column says 4.0x
    mod.report(tiny["cpu"], gpu)
    out = capsys.readouterr().out
    assert "CPU" in out and "GPU" in out and "cuda:0" in out
    assert out.count("GPU/CPU speed-up 4.0x") == 2
    mod.report(tiny["cpu"], None)
    assert "GPU" not in capsys.readouterr().out
