"""The package's layers (import-linter contracts in pyproject.toml) hold, a deliberately added upward
import breaks them, and importing gifsym does no work and leaves JAX alone."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))


def _lint(root: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH first: the copy under test, not the installed package, is analysed.
    env = {"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(root), "HOME": str(root)}
    return subprocess.run([LINT, "--config", str(root / "pyproject.toml"), "--no-cache"], capture_output=True,
                          text=True, cwd=root, env=env)


def test_the_layer_contracts_hold():
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout and " kept" in out.stdout


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "gifsym", tmp_path / "gifsym", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(("module", "line", "broken"), [
    ("symbolic/expr.py", "from gifsym.cli import app", "gifsym.symbolic.expr -> gifsym.cli"),
    ("theory/envelopes.py", "from gifsym.theory.library import LEMMAS", "gifsym.theory.envelopes -> gifsym.theory.library"),
    ("theory/integrals.py", "import jax", "gifsym.theory.integrals -> jax"),
    ("symbolic/flow.py", "from gifsym.gif import GIF", "gifsym.symbolic.flow -> gifsym.gif"),
    ("symbolic/convert/snr.py", "from gifsym.symbolic.convert.schedule_transfer import transfer",
     "gifsym.symbolic.convert.snr -> gifsym.symbolic.convert.schedule_transfer"),
    ("symbolic/convert/peers.py", "import jax", "gifsym.symbolic.convert.peers -> jax"),
])
def test_an_upward_import_breaks_the_contracts(tmp_path, module, line, broken):
    root = _copy(tmp_path)
    path = root / "gifsym" / module
    path.write_text(path.read_text() + f"\n{line}  # deliberately upward\n")
    out = _lint(root)
    assert out.returncode != 0
    assert broken in out.stdout, out.stdout


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


def test_symbolic_and_theory_layers_run_without_jax():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_gifsym_verify_is_the_numerics_verify():
    import gifsym
    from gifsym.numerics.verify import verify

    assert gifsym.verify is verify
    flow = gifsym.GIF(gifsym.schedule("linear"), gifsym.target("gaussian:sigma=0.5"))
    report = gifsym.verify(flow, samples=50, checks=["velocity"])
    assert report.passed
