"""Targets: specs, files, validation, implied class memberships."""

from __future__ import annotations

import json

import pytest
import sympy

from gifsym import target
from gifsym.errors import SpecError, TargetError


def test_gaussian_implied_classes():
    g = target("gaussian:sigma=0.5")
    by = {c.id: dict(c.params) for c in g.classes()}
    assert by["T-slc"]["kappa"] == 4 and by["T-slcvx"]["beta"] == 4
    assert by["T-conv"] == {"sigma": sympy.Rational(1, 2), "R": 0}
    full = target("gaussian", cov=[[2, 0], [0, 0.5]])
    by = {c.id: dict(c.params) for c in full.classes()}
    assert by["T-slc"]["kappa"] == sympy.Rational(1, 2) and by["T-slcvx"]["beta"] == 2
    assert "T-conv" not in by  # an anisotropic Gaussian is not N(0, σ²I) * (law on a ball)


def test_gaussian_spec_with_list_mean():
    g = target("gaussian:sigma=1,dim=2,mean=[1,-2]")
    assert g.dim == 2 and g.law.components[0].mean == (1, -2)
    # N(m, σ²I) = N(0, σ²I) * δ_m and δ_m lives on B(m, 0): R = 0 whatever m (not |m|: a shift of the
    # target does not change ∇v, issue 13).
    assert dict(g.memberships("T-conv")[0].params)["R"] == 0


def test_gmm_file(tmp_path):
    p = tmp_path / "mix.json"
    p.write_text(json.dumps({"weights": [0.25, 0.75], "means": [[0, 0], [3, 4]], "sigma": 0.5}))
    g = target(f"gmm:{p}")
    assert g.law.K == 2 and g.dim == 2
    conv = g.memberships("T-conv")[0]
    # R about the centre (3/2, 2) of the means' smallest enclosing ball, not max |m_k| = 5.
    assert dict(conv.params) == {"sigma": sympy.Rational(1, 2), "R": sympy.Rational(5, 2)}
    assert dict(g.memberships("T-slcvx")[0].params)["beta"] == 4


@pytest.mark.parametrize(
    "data, match",
    [
        ({"weights": [0.5, 0.6], "means": [[0], [1]], "sigma": 1}, "sum to 1"),
        ({"weights": [-0.5, 1.5], "means": [[0], [1]], "sigma": 1}, "positive"),
        ({"weights": [0.5, 0.5], "means": [[0], [1, 2]], "sigma": 1}, "length 2, expected 1"),
        ({"weights": [0.5, 0.5], "means": [[0], [1]], "sigma": -1}, "must be > 0"),
        ({"weights": [1.0], "means": [[0, 0]], "covariances": [[[1, 2], [0, 1]]]}, "not symmetric"),
        ({"weights": [1.0], "means": [[0, 0]], "covariances": [[[1, 2], [2, 1]]]}, "not positive definite"),
        ({"weights": [1.0], "means": [[0]], "sigma": 1, "extra": 1}, "unknown key 'extra'"),
        ({"weights": [1.0], "means": [[0]]}, "exactly one of"),
    ],
)
def test_gmm_validation(tmp_path, data, match):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(data))
    with pytest.raises(TargetError, match=match):
        target(f"gmm:{p}")


def test_gmm_file_roundoff_zeros_are_read_as_zero(tmp_path):
    """Issue 21 item 10: a mean of 4*cos(pi/2) = 2.4e-16 was refused as "out of range". It is now read as 0
    with a RoundoffWarning, and the law equals the one written with 0 (component by component); a value
    that is not round-off (1e-6) is kept exactly, and a tiny *weight* is still refused (it must be > 0
    and in range: not a round-off zero)."""
    import math

    from gifsym.errors import RoundoffWarning

    p = tmp_path / "mix.json"
    tiny = 4 * math.cos(math.pi / 2)
    assert 0 < tiny < 1e-12
    p.write_text(json.dumps({"weights": [0.5, 0.5], "means": [[tiny, 1.0], [-1.0, 0.0]], "sigma": 0.5}))
    with pytest.warns(RoundoffWarning, match="read as 0"):
        g = target(f"gmm:{p}")
    q = tmp_path / "zero.json"
    q.write_text(json.dumps({"weights": [0.5, 0.5], "means": [[0, 1.0], [-1.0, 0.0]], "sigma": 0.5}))
    assert g.law.components == target(f"gmm:{q}").law.components
    assert g.law.components[0].mean[0] == 0
    p.write_text(json.dumps({"weights": [1.0], "means": [[0.0, 0.0]],
                             "covariances": [[[1.0, -tiny], [-tiny, 2.0]]]}))
    with pytest.warns(RoundoffWarning):
        cov = target(f"gmm:{p}").law.components[0].cov
    assert cov == sympy.ImmutableMatrix([[1, 0], [0, 2]])
    p.write_text(json.dumps({"weights": [1.0], "means": [[1e-6]], "sigma": 1}))
    assert target(f"gmm:{p}").law.components[0].mean == (sympy.Rational(1, 10**6),)
    p.write_text(json.dumps({"weights": [1 - 1e-13, 1e-13], "means": [[0], [1]], "sigma": 1}))
    with pytest.raises(SpecError, match="out of range"):
        target(f"gmm:{p}")


def test_documented_gmm_file_examples_load(tmp_path):
    """The JSON examples of the gmm: file format in docs/mathematics.md load, with the numbers they show."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "mathematics.md").read_text()
    section = text.split("### The `gmm:` file", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```json\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    for i, block in enumerate(blocks):
        data = json.loads(block)
        p = tmp_path / f"doc{i}.json"
        p.write_text(block)
        g = target(f"gmm:{p}")
        assert g.law.K == len(data["weights"]) and g.dim == len(data["means"][0])
        for comp, w, m in zip(g.law.components, data["weights"], data["means"]):
            assert float(comp.weight) == w and [float(v) for v in comp.mean] == m
    assert g.law.components[1].cov == sympy.ImmutableMatrix([[sympy.Rational(1, 5), 0], [0, sympy.Rational(3, 5)]])


def test_gmm_file_errors(tmp_path):
    with pytest.raises(TargetError, match="not found"):
        target("gmm:/nonexistent/mix.json")
    p = tmp_path / "x.json"
    p.write_text("{not json")
    with pytest.raises(TargetError, match="not valid JSON"):
        target(f"gmm:{p}")


def test_classes_combine_and_stay_symbolic():
    tg = target("ball:R=1+slc:kappa=-0.5")
    assert tg.class_ids() == {"T-ball", "T-slc"}
    assert dict(tg.memberships("T-slc")[0].params)["kappa"] == sympy.Rational(-1, 2)
    sym = target("slc:kappa")
    kappa = dict(sym.declared[0].params)["kappa"]
    assert isinstance(kappa, sympy.Symbol) and kappa.is_real
    assert target("conv:sigma=0.5,R=2").class_ids() == {"T-conv"}


@pytest.mark.parametrize(
    "spec, match",
    [
        ("student:nu=3", "unknown target 'student'; accepted: gaussian, gmm"),
        ("slc:k=2", "unknown parameter 'k' for target class 'slc'; accepted: kappa"),
        ("ball:R=-1", "R=-1 must be > 0"),
        ("conv:sigma=0.5", "needs parameter 'R'"),
        ("gaussian:sigma=0.5+ball:R=1", "exact law"),
        ("slc:kappa=1+slc:kappa=2", "twice"),
        ("gaussian:sigma=0", "must be > 0"),
        ("gaussian:dim=2", "exactly one of sigma"),
        ("gaussian:sigma=1,dim=2,mean=[1,2,3]", "length 3, expected 2"),
        ("gaussian:sigma=1,dim=x", "positive integer"),
    ],
)
def test_bad_target_specs(spec, match):
    with pytest.raises(TargetError, match=match):
        target(spec)


def test_cli_prints_a_roundoff_zero_as_one_note(tmp_path, capsys):
    """On the CLI the round-off warning is one ``Note:`` line on stderr, and the command runs."""
    import math

    from gifsym.cli import main

    p = tmp_path / "mix.json"
    p.write_text(json.dumps({"weights": [0.5, 0.5], "means": [[4 * math.cos(math.pi / 2)], [1.0]], "sigma": 0.5}))
    main(["velocity", "--schedule", "linear", "--target", f"gmm:{p}"])
    out = capsys.readouterr()
    assert out.err.strip().splitlines() == ["Note: gmm mean 0: 2.4492935982947064e-16 read as 0 (|x| < 1e-12 is "
                                            "float round-off of 0)"]
    assert "velocity" in out.out
