"""gifsym.convert against the peer libraries' own code: flow_matching, diffusers and torchcfm objects are
built here and their values and derivatives compared with gifsym's derived expressions at ≥ 100 times,
including near both ends.

Tolerances: flow_matching and torchcfm compute in the dtype of t (float64 here), so values and derivatives
must agree to 1e-10 (relative to 1 + |value|: both are float64 evaluations of the same formula, ~1e-15 apart
except where a derivative is huge, e.g. LinearVP's σ' ~ 1/√(1 − t²) near t = 1, where the relative error of
both stays ~1e-15 too). diffusers computes its tables in float32 (``torch.linspace(..., dtype=float32)``);
there the comparison is to float32 rounding, with the bound derived next to each test, and the float64
routes diffusers offers (``time_shift``) are compared to 1e-10.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import sympy

from gifsym import GIF, schedule, t, target
from gifsym.convert import (
    ddpm_log_alpha_bar_bound,
    from_peer,
    parameterization,
    peer_info,
    snr_inverse,
    to_peer,
    transfer,
)
from gifsym.errors import ConvertError

torch = pytest.importorskip("torch")

TOL = 1e-10
# ≥ 100 times in (0, 1), clustered at both ends as well as spread over the interval.
TIMES = np.unique(np.concatenate([np.linspace(0.005, 0.995, 100), [1e-9, 1e-7, 1e-5, 1e-3],
                                  1 - np.array([1e-9, 1e-7, 1e-5, 1e-3])]))


def ours(s, ts=TIMES):
    """b, a, ḃ, ȧ of a gifsym schedule at ts (NumPy float64)."""
    f = sympy.lambdify(t, (s.b, s.a, s.db, s.da), modules=["numpy", "scipy"])
    return [np.broadcast_to(np.asarray(v, dtype=float), ts.shape) for v in f(ts)]


def close(got, want, tol=TOL):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    err = np.max(np.abs(got - want) / (1 + np.abs(want)) / tol)
    assert err < 1, err
    return err


def vp_tolerance(s, ts=TIMES):
    """1e-10, widened where VP's σ_t = √(1 − e^{−T}) is ill-conditioned in float64: every implementation
    (flow_matching's, gifsym's) computes 1 − e^{−T} with relative error ~ε e^{−T}/(1 − e^{−T}) = ε b²/a²
    (t → 1, T → 0), e.g. 1e-7 at t = 1 − 1e-9; 16 such errors bound the derivative's."""
    b, a = ours(s, ts)[:2]
    return TOL + 16 * np.finfo(float).eps * b**2 / a**2


# -- flow_matching ------------------------------------------------------------------------------------------

fm = pytest.importorskip("flow_matching.path.scheduler")
FM_CASES = [
    (lambda: fm.CondOTScheduler(), "fm-condot"),
    (lambda: fm.PolynomialConvexScheduler(n=2), "fm-poly:n=2"),
    (lambda: fm.PolynomialConvexScheduler(n=3.5), "fm-poly:n=3.5"),
    (lambda: fm.VPScheduler(), "fm-vp:beta_min=0.1,beta_max=20"),
    (lambda: fm.VPScheduler(beta_min=0.5, beta_max=10.0), "fm-vp:beta_min=0.5,beta_max=10"),
    (lambda: fm.LinearVPScheduler(), "fm-linear-vp"),
    (lambda: fm.CosineScheduler(), "fm-cosine"),
]
FM_IDS = [spec for _, spec in FM_CASES]


@pytest.mark.parametrize(("make", "spec"), FM_CASES, ids=FM_IDS)
def test_flow_matching_schedulers_values_and_derivatives(make, spec):
    obj = make()
    s = from_peer(obj)
    assert s == schedule(spec)  # the spec string rebuilds it without the package
    out = obj(torch.tensor(TIMES, dtype=torch.float64))
    b, a, db, da = ours(s)
    tol = vp_tolerance(s) if "vp" in spec and "linear" not in spec else TOL
    for got, want in ((out.alpha_t, b), (out.sigma_t, a), (out.d_alpha_t, db), (out.d_sigma_t, da)):
        close(got.numpy(), want, tol)  # flow_matching's own derivatives
    # the SNR inverse against the peer's own snr_inverse
    inner = TIMES[(TIMES > 1e-4) & (TIMES < 1 - 1e-4)]
    snr = torch.tensor(ours(s, inner)[0] / ours(s, inner)[1], dtype=torch.float64)
    close(snr_inverse(s).at(snr.numpy()), obj.snr_inverse(snr).numpy(), 1e-9)


@pytest.mark.parametrize(("make", "spec"), FM_CASES, ids=FM_IDS)
def test_to_peer_flow_matching_round_trip(make, spec):
    obj, back = make(), to_peer(schedule(spec), "flow_matching")
    tt = torch.tensor(TIMES, dtype=torch.float64)
    o1, o2 = obj(tt), back(tt)
    tol = vp_tolerance(schedule(spec)) if "vp" in spec and "linear" not in spec else TOL
    for name in ("alpha_t", "sigma_t", "d_alpha_t", "d_sigma_t"):
        close(getattr(o2, name).numpy(), getattr(o1, name).numpy(), tol)
    from flow_matching.path.scheduler.scheduler import Scheduler

    assert isinstance(back, Scheduler)
    close(back.snr_inverse(torch.tensor([0.5, 1.0, 4.0], dtype=torch.float64)).numpy(),
          obj.snr_inverse(torch.tensor([0.5, 1.0, 4.0], dtype=torch.float64)).numpy(), 1e-9)


@pytest.mark.parametrize(("make", "spec"), [FM_CASES[0], FM_CASES[3], FM_CASES[5]], ids=["condot", "vp", "linear-vp"])
def test_parameterizations_equal_flow_matchings_affine_path(make, spec):
    from flow_matching.path import AffineProbPath

    path = AffineProbPath(scheduler=make())
    s = from_peer(path.scheduler)
    gen = torch.Generator().manual_seed(0)
    tt = torch.tensor(TIMES[(TIMES > 1e-4) & (TIMES < 1 - 1e-4)], dtype=torch.float64)[:, None]
    x_t = torch.randn(len(tt), 3, generator=gen, dtype=torch.float64)
    q = torch.randn(len(tt), 3, generator=gen, dtype=torch.float64)
    pairs = {("x1", "velocity"): path.target_to_velocity, ("epsilon", "velocity"): path.epsilon_to_velocity,
             ("velocity", "x1"): path.velocity_to_target, ("epsilon", "x1"): path.epsilon_to_target,
             ("velocity", "epsilon"): path.velocity_to_epsilon, ("x1", "epsilon"): path.target_to_epsilon}
    for (given, want), peer_fn in pairs.items():
        mine = parameterization(s, given, want).callable("torch")(tt, x_t, q)
        theirs = peer_fn(q, x_t, tt)
        scale = 1 + theirs.abs() + x_t.abs() / tt.clamp(min=1e-3) + q.abs() / (1 - tt).clamp(min=1e-3)
        assert float(((mine - theirs).abs() / scale).max()) < TOL, (given, want)


def test_transfer_equals_flow_matchings_schedule_transformed_model():
    """gifsym's transfer (exact SNR inverse, derived ṫ, ṡ) against flow_matching's ScheduleTransformedModel
    (its hand-written formulas and snr_inverse), wrapping the same exact Gaussian-mixture velocity."""
    from flow_matching.path.scheduler import ScheduleTransformedModel
    from flow_matching.utils import ModelWrapper

    nu = target("gmm", weights=[0.3, 0.7], means=[[-1.0, 0.0], [1.0, 0.5]], sigma=0.4)
    for src_obj, tgt_obj in ((fm.CondOTScheduler(), fm.CosineScheduler()), (fm.VPScheduler(), fm.CondOTScheduler())):
        src, tgt = from_peer(src_obj), from_peer(tgt_obj)
        v_src = GIF(src, nu).field()

        class Exact(ModelWrapper):
            def forward(self, x, t, field=v_src, **extras):
                return torch.as_tensor(np.array(field(float(t), x.numpy())))

        theirs = ScheduleTransformedModel(Exact(torch.nn.Identity()), src_obj, tgt_obj)
        mine = transfer(src, tgt).velocity(lambda tt, x, field=v_src: np.asarray(field(tt, x)))
        x = np.random.default_rng(3).normal(size=(16, 2))
        lo = float(transfer(src, tgt).interval.start)
        for rv in np.linspace(lo + 0.01, 0.99, 101):
            got = mine(rv, x)
            want = theirs(x=torch.tensor(x), t=torch.tensor(rv, dtype=torch.float64)).numpy()
            close(got, want, 1e-9)  # two float64 routes; VP's snr_inverse formulas differ in rounding


def test_flow_matching_is_imported_only_for_peer_objects():
    import subprocess
    import sys

    code = ("import sys, gifsym; gifsym.convert.transfer(gifsym.schedule('fm-vp'), gifsym.schedule('fm-cosine'));"
            "assert 'flow_matching' not in sys.modules and 'torch' not in sys.modules;"
            "gifsym.convert.to_peer(gifsym.schedule('fm-vp'), 'flow_matching');"
            "assert 'flow_matching' in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# -- diffusers ------------------------------------------------------------------------------------------------

diffusers = pytest.importorskip("diffusers")
F32 = 2.0**-24  # float32 unit roundoff


@pytest.mark.parametrize("shift", [1.0, 3.0, 5.5])
def test_diffusers_flow_match_shift(shift):
    sch = diffusers.FlowMatchEulerDiscreteScheduler(shift=shift)
    s = from_peer(sch)
    assert s == schedule(f"sd3:shift={shift}")
    n = sch.config.num_train_timesteps
    # (1) the training table: sigmas[j] = σ'(u) at u = (N − j)/N, computed by diffusers in float32 (about 4
    #     roundings of relative size 2^-24 each from exact inputs): 8 ulps is a safe bound, and far below
    #     the 1/N spacing of the table that a wrong time map would show.
    u = (n - np.arange(n)) / n
    a_grid = sympy.lambdify(t, s.a)(1 - u)
    assert np.max(np.abs(sch.sigmas[:n].double().numpy() - a_grid) / a_grid) < 8 * F32
    # (2) diffusers' own shift function in float64 (time_shift with mu = log(shift), the same map), values
    #     and derivatives by torch autograd, against a and ȧ at t = 1 − u, to 1e-10.
    uu = torch.tensor(1 - TIMES, dtype=torch.float64, requires_grad=True)
    sig = sch.time_shift(math.log(shift), 1.0, uu)
    (dsig,) = torch.autograd.grad(sig.sum(), uu)
    b, a, db, da = ours(s)
    close(sig.detach().numpy(), a)
    close(-dsig.numpy(), da)  # d/dt = −d/du
    # (3) diffusers' forward process scale_noise: x = σ ε + (1 − σ) x_0 at a grid timestep, i.e. a ε + b x_0.
    sample, noise = torch.ones(1, 1), torch.full((1, 1), 2.0)
    j = 250
    x = sch.scale_noise(sample, sch.timesteps[j:j + 1], noise).double().item()
    tj = 1 - (n - j) / n
    assert abs(x - (2 * float(s.a.subs(t, tj)) + float(s.b.subs(t, tj)))) < 16 * F32 * 3


def test_diffusers_dynamic_and_linear_shift():
    sch = diffusers.FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True)
    with pytest.raises(ConvertError, match="mu"):
        from_peer(sch)
    assert from_peer(sch, mu=math.log(3.0)) == schedule(f"sd3:mu={math.log(3.0)!r}")
    lin = diffusers.FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True, time_shift_type="linear")
    s = from_peer(lin, mu=2.5)
    uu = torch.tensor(1 - TIMES, dtype=torch.float64, requires_grad=True)
    sig = lin.time_shift(2.5, 1.0, uu)
    (dsig,) = torch.autograd.grad(sig.sum(), uu)
    b, a, db, da = ours(s)
    close(sig.detach().numpy(), a)
    close(-dsig.numpy(), da)
    with pytest.raises(ConvertError, match="shift_terminal"):
        from_peer(diffusers.FlowMatchEulerDiscreteScheduler(shift_terminal=0.1))


def _diffusers_calculate_shift():
    """diffusers' own calculate_shift (FluxPipeline), read from its source file: importing the pipeline module
    needs transformers, which the function does not use."""
    import ast
    import importlib.util

    path = importlib.util.find_spec("diffusers").submodule_search_locations[0] + "/pipelines/flux/pipeline_flux.py"
    tree = ast.parse(open(path).read())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "calculate_shift")
    scope: dict = {}
    exec(compile(ast.Module([fn], []), path, "exec"), scope)  # diffusers' code, not a caller's string
    return scope["calculate_shift"]


@pytest.mark.parametrize("mu", [1.15, 0.5, -0.3])
def test_dynamic_shifting_keeps_the_users_mu(mu):
    """Issue 21 item 6: use_dynamic_shifting gave sd3:shift=3158192909689767/10^15. Now the spec is
    sd3:mu=<the user's number> with shift = e^mu kept exact; a, ȧ equal diffusers' time_shift(mu) in float64
    (torch autograd for the derivative); sd3:mu and flux:mu are the same path and the spec rebuilds it."""
    sch = diffusers.FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True)
    s = from_peer(sch, mu=mu)
    assert s.spec == f"sd3:mu={sympy.Rational(repr(mu))}" and len(s.spec) < 15
    assert schedule(s.spec) == s and s.a.has(sympy.exp(sympy.Rational(repr(mu))))
    assert (schedule(f"flux:mu={mu}").a, schedule(f"flux:mu={mu}").b) == (s.a, s.b)
    uu = torch.tensor(1 - TIMES, dtype=torch.float64, requires_grad=True)
    sig = sch.time_shift(mu, 1.0, uu)
    (dsig,) = torch.autograd.grad(sig.sum(), uu)
    b, a, db, da = ours(s)
    close(sig.detach().numpy(), a)
    close(-dsig.numpy(), da)
    # the object to_peer builds has shift e^mu (float64 of the exact value)
    assert to_peer(s, "diffusers").shift == pytest.approx(math.exp(mu), rel=1e-15)


@pytest.mark.parametrize("seq", [256, 1024, 4096, 6000])
def test_flux_image_seq_len_as_diffusers_computes_mu(seq):
    """flux:image_seq_len=N (and from_peer(obj, image_seq_len=N)) against diffusers' calculate_shift and
    time_shift: the same sigma'(u) at ≥ 100 times, to float64."""
    calculate_shift = _diffusers_calculate_shift()
    cfg = dict(base_shift=0.5, max_shift=1.15, base_image_seq_len=256, max_image_seq_len=4096)
    sch = diffusers.FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True, **cfg)
    s = from_peer(sch, image_seq_len=seq)
    assert s.name == "flux" and s == schedule(s.spec) and dict(s.params)["image_seq_len"] == seq
    mu = calculate_shift(seq, cfg["base_image_seq_len"], cfg["max_image_seq_len"], cfg["base_shift"],
                         cfg["max_shift"])
    uu = torch.tensor(1 - TIMES, dtype=torch.float64)
    close(sch.time_shift(mu, 1.0, uu).numpy(), ours(s)[1])
    if seq == 4096:
        assert s == schedule("flux")  # the defaults are FLUX.1's config at 1024x1024 (mu = max_shift)
    with pytest.raises(ConvertError, match="image_seq_len"):
        from_peer(sch)
    with pytest.raises(ConvertError, match="fixed shift"):
        from_peer(diffusers.FlowMatchEulerDiscreteScheduler(), image_seq_len=seq)


def test_shift_and_mu_are_not_mixed():
    from gifsym.errors import ScheduleError

    with pytest.raises(ScheduleError, match="one set of parameters"):
        schedule("sd3:mu=1,shift=2")
    with pytest.raises(ScheduleError, match="accepted: shift; or mu"):
        schedule("sd3:nu=1")


@pytest.mark.parametrize("cls", ["DDPMScheduler", "DDIMScheduler"])
@pytest.mark.parametrize(("kind", "start", "end"), [("linear", 1e-4, 0.02), ("scaled_linear", 0.00085, 0.012)])
def test_diffusers_ddpm_continuous_limit(cls, kind, start, end):
    sch = getattr(diffusers, cls)(beta_start=start, beta_end=end, beta_schedule=kind)
    info = peer_info(sch)
    s = info.schedule
    assert info.kind == "limit" and "t_k = 1 - (k + 1)/1000" in info.discretisation
    assert s == schedule(f"{'ddpm' if kind == 'linear' else 'ddpm-scaled'}:beta_start={start},beta_end={end}")
    n = sch.config.num_train_timesteps
    # (1) the noise rate: N β_i = β(u_i) with β(u) = 2 ḃ/b at t = 1 − u, u_i = i/(N − 1) — a derivative of the
    #     derived b against diffusers' betas (float32 linspace, then squared for scaled_linear: ≤ 4 ulps).
    ui = np.arange(n) / (n - 1)
    rate = sympy.lambdify(t, 2 * s.db / s.b, modules=["numpy"])(1 - ui)
    assert np.max(np.abs(n * sch.betas.double().numpy() - rate) / rate) < 4 * F32 * 2
    # (2) ᾱ_k against b²(t_k): within the certified discretisation bound E_k plus diffusers' float32
    #     cumprod (k + 1 products and roundings of 1 − β: ≤ 2(k + 1) ulps in log ᾱ) — and the bound is tight:
    #     the observed gap at the last step is ≥ 90% of it, so a wrong limit (or time map) fails.
    bound = np.array(ddpm_log_alpha_bar_bound(start, end, n, scaled=kind == "scaled_linear"))
    k = np.arange(n)
    log_b2 = 2 * np.log(sympy.lambdify(t, s.b, modules=["numpy"])(1 - (k + 1) / n))
    gap = np.abs(np.log(sch.alphas_cumprod.double().numpy()) - log_b2)
    assert np.all(gap <= bound + 2 * (k + 1) * F32 * 1.01)
    assert gap[-1] >= 0.9 * bound[-1]


def test_diffusers_unsupported_settings_are_named():
    with pytest.raises(ConvertError, match="trained_betas"):
        from_peer(diffusers.DDPMScheduler(trained_betas=[0.1, 0.2]))
    with pytest.raises(ConvertError, match="use_flow_sigmas"):
        from_peer(diffusers.DPMSolverMultistepScheduler(use_flow_sigmas=True, flow_shift=3.0))
    with pytest.raises(ConvertError, match="accepted"):
        from_peer(diffusers.LMSDiscreteScheduler())


# Issue 21 item 5: the samplers that share DDPM's betas -> alphas_cumprod, with their sampling settings.
SAMPLERS = [("EulerDiscreteScheduler", {}), ("EulerDiscreteScheduler", {"use_karras_sigmas": True}),
            ("DPMSolverMultistepScheduler", {}), ("UniPCMultistepScheduler", {"use_karras_sigmas": True})]


def _alpha_bar_gap_within_bound(sch, s, start, end, kind):
    """ᾱ_k of the peer against b²(t_k), within the certified discretisation bound plus float32 cumprod
    (as test_diffusers_ddpm_continuous_limit); the gap at the last step is ≥ 90% of the bound (tight)."""
    n = sch.config.num_train_timesteps
    bound = np.array(ddpm_log_alpha_bar_bound(start, end, n, scaled=kind == "scaled_linear"))
    k = np.arange(n)
    log_b2 = 2 * np.log(sympy.lambdify(t, s.b, modules=["numpy"])(1 - (k + 1) / n))
    gap = np.abs(np.log(sch.alphas_cumprod.double().numpy()) - log_b2)
    assert np.all(gap <= bound + 2 * (k + 1) * F32 * 1.01)
    assert gap[-1] >= 0.9 * bound[-1]


@pytest.mark.parametrize(("cls", "extra"), SAMPLERS, ids=[f"{c}{'-karras' if e else ''}" for c, e in SAMPLERS])
@pytest.mark.parametrize(("kind", "start", "end"), [("linear", 1e-4, 0.02), ("scaled_linear", 0.00085, 0.012)])
def test_diffusers_samplers_read_their_training_path(cls, extra, kind, start, end):
    sch = getattr(diffusers, cls)(beta_start=start, beta_end=end, beta_schedule=kind, **extra)
    info = peer_info(sch)
    name = "ddpm" if kind == "linear" else "ddpm-scaled"
    assert info.schedule == schedule(f"{name}:beta_start={start},beta_end={end}") and info.kind == "limit"
    if extra:
        assert any("use_karras_sigmas changes only where the sampler steps" in n for n in info.notes)
    _alpha_bar_gap_within_bound(sch, info.schedule, start, end, kind)


@pytest.mark.parametrize("cls", ["DDPMScheduler", "DDIMScheduler", "EulerDiscreteScheduler"])
def test_diffusers_cosine_betas_are_exact_at_the_steps(cls):
    """squaredcos_cap_v2: ᾱ_k = f((k + 1)/N)/f(0) exactly (the betas telescope), so b(t_k)² equals diffusers'
    alphas_cumprod up to float32: each β_i rounded to float32 (relative 2^-24: |Δ log(1 − β_i)| ≤
    2^-24 β_i/(1 − β_i)) and the float32 cumprod (≤ 2(k + 1) ulps in log ᾱ). The last step, whose β is
    clipped to 0.999, is the documented exception."""
    sch = getattr(diffusers, cls)(beta_schedule="squaredcos_cap_v2")
    info = peer_info(sch)
    assert info.schedule == schedule("ddpm-cosine") and info.kind == "exact"
    assert "clipped to 0.999" in info.discretisation
    n = sch.config.num_train_timesteps
    betas = sch.betas.double().numpy()
    k = np.arange(n - 1)
    log_b2 = 2 * np.log(sympy.lambdify(t, info.schedule.b, modules=["numpy"])(1 - (k + 1) / n))
    gap = np.abs(np.log(sch.alphas_cumprod.double().numpy()[:-1]) - log_b2)
    tol = np.cumsum(F32 * betas / (1 - betas))[:-1] * 1.01 + 2 * (k + 1) * F32 * 1.01
    assert np.all(gap <= tol), float(np.max(gap / tol))
    # a wrong offset s (the default s = 0.008 of Nichol & Dhariwal) is seen: s = 0.01 misses by far more
    wrong = 2 * np.log(sympy.lambdify(t, schedule("ddpm-cosine:s=0.01").b, modules=["numpy"])(1 - (k + 1) / n))
    assert np.max(np.abs(np.log(sch.alphas_cumprod.double().numpy()[:-1]) - wrong)) > 10 * np.max(tol)
    assert peer_info(getattr(diffusers, cls)(beta_schedule="squaredcos_cap_v2")).schedule.check().all_hold


@pytest.mark.parametrize("kind", ["linear", "scaled_linear"])
def test_diffusers_zero_snr_is_refused_with_the_schedule_that_does_the_job(kind):
    """rescale_betas_zero_snr: the refusal's --a/--b build a schedule whose b(t_k) matches diffusers' rescaled
    √ᾱ_k. Bound: with q_k = √ᾱ_k of the unrescaled betas, |log q_k − log b_ddpm(t_k)| ≤ E_k/2 (E_k the
    certified bound of ddpm_log_alpha_bar_bound, plus float32); the rescaled value (q_k − q_T) q_0/(q_0 − q_T)
    is increasing in q_k and decreasing in q_T and q_0, so its range over those intervals (q_0 also in
    [q_0, 1]: the limit takes the first step to t = 1) bounds it; the refusal's b must lie inside."""
    import re

    start, end = (1e-4, 0.02) if kind == "linear" else (0.00085, 0.012)
    sch = diffusers.DDIMScheduler(beta_schedule=kind, beta_start=start, beta_end=end, rescale_betas_zero_snr=True)
    with pytest.raises(ConvertError, match="rescale_betas_zero_snr") as err:
        from_peer(sch)
    a_text, b_text = re.search(r'--a "([^"]+)" --b "([^"]+)"', str(err.value)).groups()
    from gifsym.symbolic.expr import parse_expression

    a_e, b_e = (parse_expression(x, names={"t": t}) for x in (a_text, b_text))
    assert sympy.simplify(a_e**2 + b_e**2 - 1) == 0  # variance preserving
    n = sch.config.num_train_timesteps
    k = np.arange(n)
    tk = 1 - (k + 1) / n
    b_ddpm = sympy.lambdify(t, schedule(f"{'ddpm' if kind == 'linear' else 'ddpm-scaled'}:beta_start={start},"
                                        f"beta_end={end}").b, modules=["numpy"])(tk)
    e = np.array(ddpm_log_alpha_bar_bound(start, end, n, scaled=kind == "scaled_linear")) + 2 * (k + 1) * F32 * 1.01
    q_lo, q_hi = b_ddpm * np.exp(-e / 2), b_ddpm * np.exp(e / 2)
    q0_lo, q0_hi = q_lo[0], 1.0
    qt_lo, qt_hi = q_lo[-1], q_hi[-1]

    def f(q, qt, q0):
        return (q - qt) * q0 / (q0 - qt)

    lo = np.maximum(f(q_lo, qt_hi, q0_hi), 0)
    hi = f(q_hi, qt_lo, q0_lo)
    ours_b = np.asarray(sympy.lambdify(t, b_e, modules=["numpy"])(tk), dtype=float)
    theirs = np.sqrt(sch.alphas_cumprod.double().numpy())
    slack = 4 * F32 * (1 + theirs)  # diffusers' float32 sqrt, shift and scale of √ᾱ
    assert np.all(ours_b >= lo - slack) and np.all(ours_b <= hi + slack)
    assert np.all(theirs >= lo - slack) and np.all(theirs <= hi + slack)
    assert abs(ours_b[-1]) < 1e-15 and theirs[-1] < 1e-3  # zero terminal SNR (diffusers clamps ᾱ_T to 2^-24)


def test_diffusers_edm_euler():
    sch = diffusers.EDMEulerScheduler(sigma_min=0.002, sigma_max=80.0, rho=7.0)
    info = peer_info(sch)
    assert info.schedule == schedule("edm:sigma_min=0.002,sigma_max=80,rho=7") and info.kind == "exact"
    with pytest.raises(ConvertError, match=r'--a "80.0\*\(0.002/80.0\)\*\*t" --b 1'):
        from_peer(diffusers.EDMEulerScheduler(sigma_schedule="exponential"))


GRID_CASES = [
    ("EulerDiscreteScheduler", {}), ("EulerDiscreteScheduler", {"use_karras_sigmas": True}),
    ("DPMSolverMultistepScheduler", {}), ("UniPCMultistepScheduler", {}),
    ("DDIMScheduler", {}), ("DDPMScheduler", {"beta_schedule": "squaredcos_cap_v2"}),
    ("EDMEulerScheduler", {}), ("FlowMatchEulerDiscreteScheduler", {"shift": 3.0}),
]


@pytest.mark.parametrize(("cls", "kw"), GRID_CASES, ids=[f"{c}-{'-'.join(map(str, kw.values()))}" for c, kw in GRID_CASES])
def test_sampling_grid_matches_the_samplers_noise_levels(cls, kw):
    """sampling_grid: increasing times in [0, 1] at which the gifsym schedule's a/b equals the sampler's own
    level (its sigmas, or √((1 − ᾱ)/ᾱ) at DDPM/DDIM timesteps): relative 1e-9 (float64 SNR inverse; the
    levels themselves come from float32 tables, which does not matter: both sides use the same number).
    The object is left unchanged. Independent routes where one exists: EDM's steps are Karras's i/(n − 1)
    (the formula of the edm schedule), cosine DDPM's are 1 − (k + 1)/N (exact at the steps)."""
    from gifsym.convert import sampling_grid

    obj = getattr(diffusers, cls)(**kw)
    before = np.array(obj.timesteps).copy()
    g = sampling_grid(obj, 12)
    assert np.array_equal(np.array(obj.timesteps), before)  # a copy was stepped
    times = np.array(g.times)
    assert np.all(np.diff(times) >= 0) and times[0] >= 0 and times[-1] <= 1.0
    assert times[-1] == 1.0 or cls == "EDMEulerScheduler"  # EDM's last level is σ_min (t = 1 to float32)
    ratio = sympy.lambdify(t, g.schedule.a / g.schedule.b, modules=["numpy"])
    clamped = {float(x.split("a/b = ")[1].split(" ")[0]) for x in g.notes if "placed at t = 0" in x}
    for tv, level in zip(times, g.levels):
        if level == 0:
            assert tv == 1.0
        elif np.isinf(level):
            assert tv == 0.0 and g.schedule.b.subs(t, 0) == 0  # pure noise: t = 0, where b_0 = 0
        elif any(abs(level - c) <= 1e-5 * c for c in clamped):
            assert tv == 0.0  # a discrete level noisier than the continuous limit's t = 0 (noted)
        else:
            with np.errstate(divide="ignore"):
                assert abs(ratio(tv) - level) <= 1e-9 * level, (tv, level)
    if cls == "EDMEulerScheduler":
        assert np.allclose(times, np.arange(12) / 11, atol=1e-6) and any("left out" in n for n in g.notes)
    if cls == "DDPMScheduler":
        ks = obj.config.num_train_timesteps
        sch = copy_stepped(obj, 12)
        want = 1 - (sch.timesteps.numpy() + 1) / ks
        # float32 ᾱ at the steps: relative 1e-6 in a/b moves t by < 1e-5 where the SNR is not flat
        assert np.allclose(times[:-1], want, atol=1e-5)


def copy_stepped(obj, steps):
    import copy

    c = copy.deepcopy(obj)
    c.set_timesteps(steps)
    return c


def test_sampling_grid_dynamic_shift_and_errors():
    from gifsym.convert import sampling_grid

    sch = diffusers.FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True)
    g = sampling_grid(sch, 8, mu=1.15)
    stepped = copy.deepcopy(sch)
    stepped.set_timesteps(8, mu=1.15)
    sig = stepped.sigmas.double().numpy()
    a = sympy.lambdify(t, g.schedule.a, modules=["numpy"])
    assert np.allclose(a(np.array(g.times)), sig, rtol=1e-6, atol=1e-12)  # float32 sigmas
    assert sampling_grid(sch, 8, image_seq_len=4096).times == pytest.approx(g.times, abs=1e-12)
    with pytest.raises(ConvertError, match="steps"):
        sampling_grid(sch, 0, mu=1.15)
    with pytest.raises(ConvertError, match="sampling steps"):
        sampling_grid(fm.CondOTScheduler(), 8)


def test_to_peer_diffusers():
    sch = to_peer(schedule("sd3:shift=3"), "diffusers")
    assert isinstance(sch, diffusers.FlowMatchEulerDiscreteScheduler) and sch.shift == 3.0
    ddpm = to_peer(schedule("ddpm-scaled"), "diffusers")
    assert ddpm.config.beta_schedule == "scaled_linear" and from_peer(ddpm) == schedule("ddpm-scaled")
    assert from_peer(to_peer(schedule("vp"), "diffusers")) == schedule("ddpm")  # same continuous limit
    with pytest.raises(ConvertError, match="diffusers has no object"):
        to_peer(schedule("follmer"), "diffusers")


# -- torchcfm ---------------------------------------------------------------------------------------------------

cfm = pytest.importorskip("torchcfm.conditional_flow_matching")
CFM_CASES = [
    ("ConditionalFlowMatcher", 0.0, "cfm"), ("ConditionalFlowMatcher", 0.1, "cfm:sigma=0.1"),
    ("TargetConditionalFlowMatcher", 0.0, "condot"), ("TargetConditionalFlowMatcher", 0.01, "condot:sigma_min=0.01"),
    ("VariancePreservingConditionalFlowMatcher", 0.0, "cfm-vp"),
    ("VariancePreservingConditionalFlowMatcher", 0.1, "cfm-vp:sigma=0.1"),
]


def peer_coefficients(obj, tt):
    """(c_0, c_1, σ_t) of x_t = c_0 x_0 + c_1 x_1 + σ_t ε, read off the matcher's own compute_mu_t and
    compute_sigma_t (linear in x_0, x_1), as differentiable functions of tt."""
    one, zero = torch.ones_like(tt), torch.zeros_like(tt)
    c0 = obj.compute_mu_t(one, zero, tt)
    c1 = obj.compute_mu_t(zero, one, tt)
    sig = obj.compute_sigma_t(tt)
    sig = sig if isinstance(sig, torch.Tensor) else torch.full_like(tt, float(sig))
    return c0, c1, sig


@pytest.mark.parametrize(("cls", "sigma", "spec"), CFM_CASES, ids=[c[2] for c in CFM_CASES])
def test_torchcfm_matchers_values_and_derivatives(cls, sigma, spec):
    obj = getattr(cfm, cls)(sigma=sigma)
    s = from_peer(obj)
    assert s == schedule(spec)
    tt = torch.tensor(TIMES, dtype=torch.float64, requires_grad=True)
    c0, c1, sig = peer_coefficients(obj, tt)
    a_peer = torch.sqrt(c0**2 + sig**2)  # two independent Gaussians: the noise coefficient
    (da_peer,) = torch.autograd.grad(a_peer.sum(), tt, retain_graph=True)
    (db_peer,) = torch.autograd.grad(c1.sum(), tt)
    b, a, db, da = ours(s)
    close(c1.detach().numpy(), b)
    close(a_peer.detach().numpy(), a)
    close(db_peer.numpy(), db)  # torch autograd of torchcfm's own code
    close(da_peer.numpy(), da)


@pytest.mark.parametrize(("cls", "sigma", "spec"), CFM_CASES, ids=[c[2] for c in CFM_CASES])
def test_torchcfm_training_target_has_the_gif_velocity(cls, sigma, spec):
    """The marginal field torchcfm regresses on, E[u_t | x_t] for u_t = compute_conditional_flow(x_0, x_1, t,
    x_t), equals gifsym's exact velocity for a Gaussian target N(m, s²): u_t and x_t are linear in the
    independent Gaussians (x_0, x_1, ε), so E[u | x] = E[u] + Cov(u, x)/Var(x) (x − E[x]) exactly — built
    from the peer's own functions evaluated at basis vectors."""
    obj = getattr(cfm, cls)(sigma=sigma)
    s = from_peer(obj)
    m, sd = 0.7, 0.5
    flow = GIF(s, target(f"gaussian:sigma={sd},mean={m}"))
    v_exact = sympy.lambdify((t, flow.x[0]), flow.velocity()[0], modules=["numpy"])
    tt = torch.tensor(TIMES[(TIMES > 1e-6) & (TIMES < 1 - 1e-6)], dtype=torch.float64)
    c0, c1, sig = peer_coefficients(obj, tt)
    one, zero = torch.ones_like(tt), torch.zeros_like(tt)

    def flow_of(x0, x1, eps):
        xt = obj.sample_xt(x0, x1, tt, eps)
        return obj.compute_conditional_flow(x0, x1, tt, xt)

    base = flow_of(zero, zero, zero)
    g0, g1, ge = (flow_of(one, zero, zero) - base, flow_of(zero, one, zero) - base, flow_of(zero, zero, one) - base)
    # x_0 ~ N(0, 1), X_1 = m + sd ξ, ε ~ N(0, 1): u = base + g0 x0 + g1 X_1 + ge ε, x_t = c0 x0 + c1 X_1 + σ ε
    mean_u, mean_x = base + g1 * m, c1 * m
    cov_ux = g0 * c0 + g1 * c1 * sd**2 + ge * sig
    var_x = c0**2 + c1**2 * sd**2 + sig**2
    for x in (-1.3, 0.2, 2.0):
        marginal = (mean_u + cov_ux / var_x * (x - mean_x)).numpy()
        close(marginal, v_exact(tt.numpy(), x), 1e-9)  # float64; 1/(1 − t) factors of the conditional flow


def test_torchcfm_coupled_matchers_are_refused_with_the_reason():
    for cls in ("ExactOptimalTransportConditionalFlowMatcher", "SchrodingerBridgeConditionalFlowMatcher"):
        with pytest.raises(ConvertError, match="optimal-transport plan"):
            from_peer(getattr(cfm, cls)(sigma=0.5))


@pytest.mark.parametrize("sigma", [0.1, 0.5, 1.0])
def test_schrodinger_bridge_refusal_names_its_own_noise(sigma):
    """Issue 21 item 7: the refusal named cfm:sigma=0.1 (constant noise), but SB-CFM's noise is
    σ√(t(1 − t)). The message says so, and the schedule it offers for independent pairs is checked against
    the matcher's own compute_mu_t / compute_sigma_t (a = √(c_0² + σ_t²), b = c_1, values and autograd
    derivatives) at ≥ 100 times."""
    import re

    obj = cfm.SchrodingerBridgeConditionalFlowMatcher(sigma=sigma)
    with pytest.raises(ConvertError) as err:
        from_peer(obj)
    msg = str(err.value)
    assert "sigma sqrt(t (1 - t))" in msg and "not a GIF" in msg and "cfm:sigma" not in msg
    a_text = re.search(r'--a "([^"]+)" --b t', msg).group(1)
    s = schedule(a=a_text, b="t")
    tt = torch.tensor(TIMES, dtype=torch.float64, requires_grad=True)
    c0, c1, sig = peer_coefficients(obj, tt)
    a_peer = torch.sqrt(c0**2 + sig**2)
    (da_peer,) = torch.autograd.grad(a_peer.sum(), tt)
    b, a, db, da = ours(s)
    close(c1.detach().numpy(), b)
    close(a_peer.detach().numpy(), a)
    close(da_peer.numpy(), da)
    assert isinstance(to_peer(schedule("condot:sigma_min=0.01"), "torchcfm"), cfm.TargetConditionalFlowMatcher)
    assert from_peer(to_peer(schedule("cfm-vp:sigma=0.1"), "torchcfm")) == schedule("cfm-vp:sigma=0.1")


def test_subclasses_and_strangers_are_refused():
    class Mine(fm.CondOTScheduler):
        pass

    with pytest.raises(ConvertError, match="subclass"):
        from_peer(Mine())
    with pytest.raises(ConvertError, match="accepted"):
        from_peer(object())
