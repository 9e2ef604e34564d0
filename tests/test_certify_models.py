"""Torch models as first-class (issue 20 item 5) and the loss budget in the users' convention (item 4).

The models are the exact field of the linear schedule to ν = N(0, σ²I), ``v(t, x) = L_t x`` with
``L_t = (−(1 − t) + σ²t)/s_t``, ``s_t = (1 − t)² + σ²t²`` (math.md §4), written in torch in each calling
convention peers use, plus a known constant shift c: then ``ε(t) = |c|`` exactly and the excess
flow-matching loss per dimension is ``|c|²/d`` exactly (the cross term ``2c·E(v − u)`` vanishes because v
is the conditional mean of the target u = ȧZ + ḃX₁). The per-dimension loss is checked against torchcfm's
own ``ConditionalFlowMatcher`` (σ = 0: x_t = t x₁ + (1 − t) x₀, u = x₁ − x₀, the linear schedule) and loss
``torch.mean((vt - ut) ** 2)`` on the same batch.
"""

from __future__ import annotations

import json
import math
import sys
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffrax")

from gifsym import GIF, schedule, target
from gifsym.errors import NumericError
from gifsym.numerics.certify import certify
from gifsym.numerics.fm_loss import conditional_losses, detectable_batch
from gifsym.numerics.models import adapt

SIG, D = 0.5, 2
C = (0.03, 0.04)  # |c|² = 0.0025


def L_t(t):
    return (-(1 - t) + SIG**2 * t) / ((1 - t) ** 2 + SIG**2 * t**2)


@pytest.fixture(scope="module")
def flow():
    return GIF(schedule("linear"), target(f"gaussian:sigma={SIG},dim={D}"))


def _column(t, x):
    """t as an (n, 1) column whatever form it came in (float, 0-d, (n,), (n, 1))."""
    return torch.as_tensor(t, dtype=x.dtype).reshape(-1, 1).expand(x.shape[0], 1)


class XT(torch.nn.Module):
    """flow_matching's convention: forward(x, t), t of shape (n,)."""

    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.c = torch.nn.Parameter(torch.tensor(C, dtype=dtype))
        self.calls: list[tuple[int, torch.dtype]] = []

    def forward(self, x, t):
        self.calls.append((x.shape[0], x.dtype))
        tt = _column(t, x)
        return L_t(tt) * x + self.c


class TX(XT):
    """gifsym's order with a batched t: forward(t, x)."""

    def forward(self, t, x):  # noqa: D102
        return super().forward(x, t)


class Concat(torch.nn.Module):
    """torchcfm's MLP(time_varying=True) convention: one input cat([x, t[:, None]], -1)."""

    def __init__(self):
        super().__init__()
        self.c = torch.nn.Parameter(torch.tensor(C, dtype=torch.float64))

    def forward(self, xt):
        x, tt = xt[:, :-1], xt[:, -1:]
        return L_t(tt) * x + self.c


def _reference(t, x):
    return L_t(t) * x + np.array(C)


X = np.random.default_rng(0).normal(size=(7, D))


@pytest.mark.parametrize("model, order", [(XT(), "model(x, t)"), (TX(), "model(t, x)"),
                                          (Concat(), "model(torch.cat([x, t], -1))")])
def test_each_argument_order_is_detected_stated_and_evaluated(model, order):
    m = adapt(model, dim=D)
    assert m.backend == "torch" and m.calling.startswith(order), m.calling
    assert "float64 on cpu" in m.calling
    # The values are the model's own: L_t x + c in float64 (exact up to rounding).
    assert np.allclose(m(0.3, X), _reference(0.3, X), rtol=1e-14, atol=1e-15)
    # Jacobians through the detected call (torch.func.jvp): L_t I exactly.
    assert np.allclose(m.jacobians(0.3, X[:3]), L_t(0.3) * np.eye(D), atol=1e-14)


def test_batched_t_shape_is_what_the_model_sees():
    m = adapt(XT(), dim=D)
    assert m.calling == "model(x, t), t of shape (n,), float64 on cpu"
    seen = []

    class Spy(XT):
        def forward(self, x, t):
            seen.append(tuple(t.shape))
            return super().forward(x, t)

    adapt(Spy(), dim=D)(0.4, X)
    assert seen[-1] == (len(X),)


def test_torchcfm_mlp_and_wrapper():
    from torchcfm.models.models import MLP
    from torchcfm.utils import torch_wrapper

    torch.manual_seed(0)
    net = MLP(D, time_varying=True, w=16)
    m = adapt(net, dim=D)
    assert m.calling.startswith("model(torch.cat([x, t], -1))") and "float32" in m.calling
    xt = torch.as_tensor(X, dtype=torch.float32)
    direct = net(torch.cat([xt, torch.full((len(X), 1), 0.6)], -1)).detach().double().numpy()
    assert np.array_equal(m(0.6, X), direct)  # the same float32 computation, widened exactly
    # torchcfm's torch_wrapper (for torchdyn) is forward(t, x) with a 0-d t: the same values.
    w = adapt(torch_wrapper(net), dim=D)
    assert w.calling.startswith("model(t, x), t a 0-d tensor")
    assert np.array_equal(w(0.6, X), direct)


def test_flow_matching_model_wrapper():
    from flow_matching.utils import ModelWrapper

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = XT()

        def forward(self, x, t):
            return self.inner(x, t)

    class Wrapped(ModelWrapper):  # ODESolver's velocity_model: forward(x, t, **extras)
        def forward(self, x, t, **extras):
            return self.model(x, t)

    m = adapt(Wrapped(Net()), dim=D)
    assert m.calling.startswith("model(x, t), t of shape (n,)")
    assert np.allclose(m(0.8, X), _reference(0.8, X), rtol=1e-14)


def test_float32_model_is_fed_float32_and_reported_float64(flow):
    model = XT(dtype=torch.float32)
    m = adapt(model, dim=D)
    assert "float32 on cpu" in m.calling
    model.calls.clear()
    out = m(0.3, X)
    assert model.calls == [(len(X), torch.float32)] and out.dtype == np.float64
    # float32 rounding: |rel error| ≤ a few ulps of float32 (6e-8) through the 3 operations.
    assert np.allclose(out, _reference(0.3, X), rtol=1e-6, atol=1e-6)
    cert = certify(flow, model, lipschitz=2.0, n=128, times=5)
    assert "float32" in cert.model_call and cert.to_dict()["model_call"] == cert.model_call


def test_no_python_loop_over_samples(flow):
    """The number of forward calls does not depend on the number of samples: one batch per evaluation."""
    counts = {}
    for n in (64, 512):
        model = XT()
        certify(flow, model, lipschitz=1.0, n=n, times=5)
        counts[n] = len(model.calls)
        # Every call after the probes (batch d + 2) is a whole batch of samples.
        assert max(b for b, _ in model.calls) == n
    assert counts[64] == counts[512], counts


def test_train_mode_module_is_evaluated_in_eval_mode():
    net = torch.nn.Sequential(torch.nn.Dropout(0.5))

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net
            self.c = torch.nn.Parameter(torch.zeros(D, dtype=torch.float64))

        def forward(self, t, x):
            return self.net(x) + self.c

    model = M().train()
    m = adapt(model, dim=D)
    assert not model.training
    assert np.array_equal(m(0.5, X), X)  # dropout off: deterministic


def test_ambiguous_and_failing_models_name_what_was_tried():
    class Ambiguous(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones((), dtype=torch.float64))

        def forward(self, a, b):  # both orders work in d = 1 with different values; names say nothing
            return self.w * (2 * a.reshape(-1, 1) + b.reshape(-1, 1))

    with pytest.raises(NumericError, match=r"model\(t, x\), model\(x, t\).*wrap it"):
        adapt(Ambiguous(), dim=1)

    class Named(Ambiguous):
        def forward(self, x, t):  # the same ambiguity, resolved by the parameter names
            return super().forward(x, t)

    m = adapt(Named(), dim=1)
    assert m.calling.startswith("model(x, t)") and "parameter names" in m.call.reason
    assert adapt(Ambiguous(), dim=1, call="x, t").calling.startswith("model(x, t)")

    class Broken(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(3))

        def forward(self, x, t):
            return x @ torch.ones(5, 2)

    with pytest.raises(NumericError, match=r"cannot call the torch model Broken.*model\(x, t\), t of shape \(n,\)"
                                           r".*model\(torch.cat"):
        adapt(Broken(), dim=2)


# ---------------------------------------------------------------------------------------------------------
# The budget in the users' convention


def test_excess_per_dimension_is_torchcfms_loss_difference_on_the_same_batch(flow):
    from torchcfm.conditional_flow_matching import ConditionalFlowMatcher

    model, exact = XT(), XT()
    with torch.no_grad():
        exact.c.zero_()
    cert = certify(flow, model, lipschitz=1.0, n=2048, times=11)
    loss = cert.loss
    # ε(t) = |c| at every sample, so ∫ε̂² = |c|² exactly and the excess per dimension is |c|²/d.
    assert loss.excess == pytest.approx(sum(c * c for c in C) / D, rel=1e-12)

    # torchcfm on one batch: t on the certificate's grid, x0 = Z, x1 from the target.
    rng = np.random.default_rng(1)
    k = 4096
    ts = np.repeat(np.asarray(cert.times), k // len(cert.times) + 1)[:k]
    x0 = torch.as_tensor(rng.normal(size=(k, D)))
    x1 = torch.as_tensor(SIG * rng.normal(size=(k, D)))
    fm = ConditionalFlowMatcher(sigma=0.0)
    t, xt, ut = fm.sample_location_and_conditional_flow(x0, x1, t=torch.as_tensor(ts))
    with torch.no_grad():
        theirs = {name: float(torch.mean((net(xt, t) - ut) ** 2)) for name, net in (("model", model), ("exact", exact))}
    # gifsym's per-sample loss on the same batch (its own x_t = a z + b x1 and target ȧ z + ḃ x1).
    m = adapt(model, dim=D)
    ours = np.concatenate([conditional_losses(m, float(tt), (1 - tt, tt, -1.0, 1.0), x0.numpy()[ts == tt],
                                              x1.numpy()[ts == tt]) for tt in np.unique(ts)])
    assert float(np.mean(ours)) == pytest.approx(theirs["model"], rel=1e-12)  # same batch: equal up to rounding
    # The batch's excess is |c|²/d + (2/d) c·mean(v − u): its noise is (2/d)|c|·sd(v − u)/√k, sd ≤ 1.2 here
    # (|v − u| per coordinate: |L_t x_t + 1·x0 − x1| has variance ≤ 1 + σ² on [0, 1]); 5 such sds.
    tol = 5 * (2 / D) * math.hypot(*C) * math.sqrt(1 + SIG**2) / math.sqrt(k)
    assert abs((theirs["model"] - theirs["exact"]) - loss.excess) < tol


def test_detectable_batch_matches_the_spread_of_torchcfm_batch_losses(flow):
    """s/√B, with s from gifsym's grid quadrature, against the spread of torchcfm losses with t ~ U[0, 1]."""
    from torchcfm.conditional_flow_matching import ConditionalFlowMatcher

    model = XT()
    cert = certify(flow, model, lipschitz=1.0, n=2048, times=41)
    s = cert.loss.std
    torch.manual_seed(2)
    fm = ConditionalFlowMatcher(sigma=0.0)
    B, R = 64, 400
    x0 = torch.randn(R * B, D, dtype=torch.float64)
    x1 = SIG * torch.randn(R * B, D, dtype=torch.float64)
    t, xt, ut = fm.sample_location_and_conditional_flow(x0, x1)  # torchcfm draws t ~ U[0, 1]
    with torch.no_grad():
        per = ((model(xt, t) - ut) ** 2).mean(dim=1).reshape(R, B).mean(dim=1)
    spread = float(per.std())
    # The sample sd of R = 400 batch means has relative sd ≈ sqrt((κ − 1)/(4R)) with κ the kurtosis of a
    # batch mean (≈ 3 + κ_ℓ/B, κ_ℓ ≲ 30 for a squared Gaussian-like ℓ): ≈ 0.04; 20% is 5 of those.
    assert spread == pytest.approx(s / math.sqrt(B), rel=0.2)
    assert cert.loss.batch == detectable_batch(cert.loss.excess, s, cert.loss.z)
    assert cert.loss.z == pytest.approx(1.6448536269514722)  # one-sided 95%
    b = cert.budget(0.05).per_dimension
    assert b.excess == pytest.approx(cert.budget(0.05).mean_square / D, rel=1e-14) and b.std == s
    assert b.batch == math.ceil((b.z * s / b.excess) ** 2)


def test_loss_fields_in_json_and_terminal(flow):
    cert = certify(flow, XT(), lipschitz=1.0, n=128, times=5)
    d = json.loads(json.dumps(cert.to_dict()))
    lp = d["loss_per_dimension"]
    assert lp["excess_per_dim"] == pytest.approx(0.00125) and lp["kind"] == "estimate" and lp["detectable_batch"] > 0
    assert lp["loss_per_dim"] == pytest.approx(lp["floor_per_dim"] + lp["excess_per_dim"])
    budget = json.loads(json.dumps(cert.budget(0.1).to_dict()))["per_dimension"]
    assert budget["excess_per_dim"] == pytest.approx(cert.budget(0.1).mean_square / D)
    text = str(cert)
    assert "model called as model(x, t), t of shape (n,)" in text and "mean over dimensions" in text
    assert "per dimension" in str(cert.budget(0.1))


# ---------------------------------------------------------------------------------------------------------
# The CLI: --model MODULE:FUNCTION returning a module or a callable


BUILD_SRC = textwrap.dedent(f"""
    import torch

    C = {C!r}

    class XT(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c = torch.nn.Parameter(torch.tensor(C, dtype=torch.float64))

        def forward(self, x, t):
            tt = t.reshape(-1, 1)
            return (-(1 - tt) + {SIG**2} * tt) / ((1 - tt) ** 2 + {SIG**2} * tt ** 2) * x + self.c

    def build():
        return XT()

    def build_callable():
        net = XT()
        return lambda t, x: net(x, torch.full((x.shape[0],), t, dtype=x.dtype))

    def build_fails():
        raise RuntimeError("no checkpoint")

    def build_number():
        return 3

    module = XT()
""")


def _run(argv, capsys):
    from gifsym.cli import main

    try:
        main(argv)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


BASE = ["certify", "-s", "linear", "-T", f"gaussian:sigma={SIG},dim={D}", "-n", "64", "--times", "5",
        "--lipschitz", "1"]


@pytest.mark.parametrize("attr, call", [("build", "model(x, t), t of shape (n,)"),
                                        ("build_callable", "model(t, x), t a Python float"),
                                        ("XT", "model(x, t)"), ("module", "model(x, t)")])
def test_cli_model_builders(tmp_path, monkeypatch, capsys, attr, call):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mymodel_build.py").write_text(BUILD_SRC)
    code, out, err = _run([*BASE, "--model", f"./mymodel_build.py:{attr}", "--json", "--tolerance", "0.1"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["model_call"].startswith(call), d["model_call"]
    assert d["loss_per_dimension"]["excess_per_dim"] == pytest.approx(0.00125, rel=1e-9)
    assert d["budget"]["per_dimension"]["excess_per_dim"] == pytest.approx(d["budget"]["mean_square"] / D)
    code, out, err = _run([*BASE, "--model", f"./mymodel_build.py:{attr}"], capsys)
    assert code == 0 and f"model called as {call}" in out


@pytest.mark.parametrize("attr, match", [("build_fails", r"build_fails\(\) raised RuntimeError: no checkpoint"),
                                         ("build_number", r"build_number\(\) returned a int, not"),
                                         ("nothing", "no attribute 'nothing'")])
def test_cli_bad_builders_exit_2_with_one_error_line(tmp_path, monkeypatch, capsys, attr, match):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mymodel_bad.py").write_text(BUILD_SRC)
    code, out, err = _run([*BASE, "--model", f"mymodel_bad.py:{attr}"], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("Error:"), err
    import re

    assert re.search(match, lines[0]), lines[0]


def test_cli_model_that_fails_every_convention(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mymodel_wrong.py").write_text("import torch\n\nclass M(torch.nn.Module):\n"
                                               "    def __init__(self):\n        super().__init__()\n"
                                               "        self.l = torch.nn.Linear(5, 5)\n\n"
                                               "    def forward(self, x, t):\n        return self.l(x)\n\n"
                                               "def build():\n    return M()\n")
    code, out, err = _run([*BASE, "--model", "mymodel_wrong.py:build"], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("Error:"), err
    assert "cannot call the torch model" in lines[0] and "model(x, t), t of shape (n,)" in lines[0]
    sys.modules.pop("gifsym_user_model_mymodel_wrong", None)
