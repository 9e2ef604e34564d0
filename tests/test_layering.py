"""The symbolic layer (schedules, targets, velocity, bounds, lemmas, LaTeX) never imports JAX, and
importing gifsym does no work and leaves JAX's settings alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys
import gifsym
assert "jax" not in sys.modules, "import gifsym pulled in JAX"
flow = gifsym.GIF(gifsym.schedule("vp"), gifsym.target("slc:kappa=2"))
flow.velocity(); flow.jacobian(); flow.bounds(); flow.flow_map_lipschitz()
gifsym.lemmas.applicable(flow)
gifsym.to_latex(flow.bounds())
gifsym.GIF(gifsym.schedule("linear"), gifsym.target("gaussian:sigma=0.5")).velocity()
assert "jax" not in sys.modules, sorted(m for m in sys.modules if m.startswith("jax"))[:5]
print("ok")
"""


def test_symbolic_layer_runs_without_jax():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_gifsym_verify_stays_callable_after_its_module_is_imported():
    import gifsym
    import gifsym.verify  # rebinds the package attribute to the module

    assert callable(gifsym.verify)
    flow = gifsym.GIF(gifsym.schedule("linear"), gifsym.target("gaussian:sigma=0.5"))
    report = gifsym.verify(flow, samples=50, checks=["velocity"])
    assert report.passed
