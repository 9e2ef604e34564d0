r"""A peer sampler's steps as times of its gifsym schedule (``gifsym.convert.sampling_grid``).

A diffusers scheduler samples at noise levels of its own: after ``set_timesteps(steps)`` it holds
``sigmas`` (DDPM-family samplers: the noise-to-signal ratio ``σ = √((1 − ᾱ)/ᾱ) = a/b``; EDM: ``σ = a``
with ``b = 1``; flow matching: ``σ' = a`` with ``b = 1 − σ'``) or, for DDPM/DDIM, discrete ``timesteps``
k whose ``σ_k`` are read from ``alphas_cumprod``. Each level ``r_i = a/b`` is the time of gifsym's schedule
with the same signal-to-noise ratio,

    t_i = ρ⁻¹(1 / r_i),    ρ(t) = b_t / a_t,

so the model sees the same noise level at t_i as the sampler gives it (:mod:`gifsym.symbolic.convert.snr`;
``r = 0`` is t = 1). For a discrete schedule whose gifsym schedule is a continuous-time limit, matching
the noise level (rather than the step index, ``t = 1 − (k + 1)/N``) keeps the grid on the levels the
model was trained at; the two differ by the limit's discretisation error.

Example:
    >>> from gifsym import schedule
    >>> grid_from_levels(schedule("linear"), [1.0, 0.25, 0.0]).times  # a/b = (1 - t)/t
    (0.5, 0.8, 1.0)
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


from gifsym.errors import ConvertError
from gifsym.symbolic.convert.snr import snr_inverse
from gifsym.symbolic.schedule import Schedule, t


@dataclass(frozen=True)
class SamplingGrid:
    """A sampler's steps in gifsym's time (increasing, in [0, 1]).

    Attributes:
        schedule: the gifsym schedule (``from_peer`` of the same object).
        times: the step times ``t_i``, increasing, in [0, 1].
        levels: the sampler's own noise-to-signal ratios ``a/b`` of the same steps (``0.0`` for a final
            step to the data, ``inf`` for a zero-SNR first step).
        notes: what was left out or moved (a final step below the schedule's last level, a clamp).
    """

    schedule: Schedule
    times: tuple[float, ...]
    levels: tuple[float, ...]
    notes: tuple[str, ...] = ()


def grid_from_levels(sched: Schedule, levels: Sequence[float]) -> SamplingGrid:
    """The times of ``sched`` at which ``a/b`` equals each of ``levels`` (decreasing noise-to-signal ratios).

    Levels below the schedule's last one (``a_1/b_1 > 0``, e.g. EDM's σ_min) are left out with a note;
    levels above its first (``a_0/b_0``) are clamped to t = 0 with a note.
    """
    import numpy as np
    r = np.asarray(levels, dtype=float)
    if r.ndim != 1 or np.any(np.isnan(r)) or np.any(r < 0):
        raise ConvertError(f"sampling levels must be numbers >= 0 (inf: pure noise), got {levels!r}")
    inv = snr_inverse(sched)
    lo, hi = inv.range  # the SNR ρ = b/a over [0, 1]
    notes, keep = [], []
    for value in r:
        snr = np.inf if value == 0 else 1.0 / value  # 1/inf = 0: pure noise (a zero-SNR first step)
        if snr == 0 and lo == 0:
            keep.append((0.0, value))
        elif snr > hi and value == 0 and np.isinf(hi):
            keep.append((1.0, value))
        elif snr > hi * (1 + 1e-12):
            notes.append(f"a step at a/b = {value:.6g} lies beyond t = 1 (the schedule's last level is "
                         f"a_1/b_1 = {1 / hi:.6g}): left out")
        elif snr < lo:
            notes.append(f"a step at a/b = {value:.6g} is noisier than t = 0 (a_0/b_0 = "
                         f"{np.inf if lo == 0 else 1 / lo:.6g}): placed at t = 0")
            keep.append((0.0, value))
        else:
            keep.append((float(inv.at(min(snr, hi))), value))
    times = np.array([k[0] for k in keep])
    if np.any(np.diff(times) < 0):
        raise ConvertError("the sampler's noise levels do not decrease: no increasing time grid")
    return SamplingGrid(sched, tuple(float(x) for x in times), tuple(float(k[1]) for k in keep), tuple(notes))


def _levels(obj: Any, steps: int, mu: float | None) -> list[float]:
    """The noise-to-signal ratios a/b of a diffusers scheduler's sampling steps (on a copy of ``obj``)."""
    import numpy as np
    name = type(obj).__name__
    sched = copy.deepcopy(obj)  # set_timesteps changes the object: leave the caller's alone
    if name == "FlowMatchEulerDiscreteScheduler":
        sched.set_timesteps(steps, mu=mu) if getattr(sched.config, "use_dynamic_shifting", False) \
            else sched.set_timesteps(steps)
        sigma = np.asarray(sched.sigmas.double().cpu().numpy(), dtype=float)  # a = σ', b = 1 − σ'
        with np.errstate(divide="ignore"):
            return list(np.where(sigma >= 1, np.inf, sigma / (1 - sigma)))
    sched.set_timesteps(steps)
    if hasattr(sched, "sigmas") and name != "DDPMScheduler":
        return [float(v) for v in sched.sigmas.double().cpu().numpy()]  # a/b (EDM: a, with b = 1)
    # DDPM / DDIM: σ_k = √((1 − ᾱ_k)/ᾱ_k) at each timestep, then the final step to the data (ᾱ = 1)
    abar = sched.alphas_cumprod.double().cpu().numpy()
    ks = [int(k) for k in sched.timesteps.cpu().numpy()]
    return [float(np.sqrt((1 - abar[k]) / abar[k])) for k in ks] + [0.0]


def sampling_grid(obj: Any, steps: int, *, mu: float | None = None,
                  image_seq_len: int | None = None) -> SamplingGrid:
    """A diffusers scheduler's sampling steps as increasing times in [0, 1] of its gifsym schedule.

    The schedule is :func:`gifsym.convert.from_peer` of ``obj``; the steps are those of
    ``obj.set_timesteps(steps)`` (on a copy: ``obj`` is not changed), each placed at the time with the same
    noise-to-signal ratio (see the module docstring). Use it to evaluate a bound or a planner on the grid a
    sampler really uses (use_karras_sigmas, timestep_spacing, shift all move it).

    Args:
        obj: a diffusers scheduler that :func:`gifsym.convert.from_peer` reads.
        steps: the number of inference steps (a positive integer).
        mu, image_seq_len: for FlowMatchEulerDiscreteScheduler with use_dynamic_shifting (as in from_peer).

    Raises:
        ConvertError: an object from_peer does not read, a non-diffusers object, or a bad ``steps``.
    """
    import numpy as np
    from gifsym.symbolic.convert.peers import from_peer

    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= 100_000:
        raise ConvertError(f"steps={steps!r} must be an integer between 1 and 100000")
    sched = from_peer(obj, mu=mu, image_seq_len=image_seq_len)
    if type(obj).__module__.split(".")[0] != "diffusers" or not hasattr(obj, "set_timesteps"):
        raise ConvertError(f"sampling_grid reads diffusers schedulers; {type(obj).__name__} has no sampling steps "
                           "(use your own grid of times in [0, 1])")
    if mu is None and image_seq_len is not None:  # diffusers' set_timesteps takes mu: compute it as gifsym did
        import sympy

        mu = float(sympy.log((sched.a / sched.b).subs(t, sympy.Rational(1, 2))))  # a/b = e^mu (1 - t)/t
    return grid_from_levels(sched, _levels(obj, int(steps), mu))
