r"""The flow-matching loss in the convention peers log it, and the minibatch size at which an excess shows.

torchcfm (``torch.mean((vt - ut) ** 2)``) and facebookresearch/flow_matching
(``torch.pow(vf(x_t, t) - dx_t, 2).mean()``) log the conditional flow-matching loss as a **mean over the batch
and over the d dimensions**: per sample

.. math::

    \ell = \tfrac1d\,\big|\tilde v(t, a_t Z + b_t X_1) - (\dot a_t Z + \dot b_t X_1)\big|^2,
    \qquad t \sim U[0, 1],\ Z \sim N(0, I),\ X_1 \sim \nu,

and the logged minibatch loss is the mean of B such ℓ. Since the exact field v is the conditional mean of
the regression target, ``E ℓ(ṽ) = E ℓ(v) + (1/d) ∫_0^1 ε(t)² dt`` with ``ε(t) = ‖ṽ − v‖_{L²(p_t)}``: gifsym's
mean-square error budget ``∫ε² ≤ M`` is an **excess loss per dimension** ``M/d`` above the floor ``E ℓ(v)``.

**Detecting an excess.** The logged loss of a batch of B independent samples has standard deviation
``s/√B``, s the standard deviation of one ℓ. An excess δ above the floor stands out of that noise at one-sided
level α when ``δ ≥ z_{1−α}·s/√B``, i.e. from the batch size

.. math::

    B_\delta = \big\lceil (z_{1-\alpha}\, s / \delta)^2 \big\rceil.

This is an **estimate**: s is estimated (the t-integral of ℓ's first two moments by the trapezoid rule on
the certificate's grid, each moment a sample mean), and the normal approximation of a batch mean is assumed.

Example:
    >>> b = per_dimension(excess_total=0.02, dim=2, floor_total=1.0, std=0.5, confidence=0.95)
    >>> b.excess, b.loss, b.batch  # 0.01 per dimension above 0.5; (1.645 · 0.5 / 0.01)² = 6763.9
    (0.01, 0.51, 6764)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gifsym.errors import NumericError

#: Pairs (Z, X₁) per grid time for the estimate of s (its relative standard error is about 1/√(2·k·m)).
LOSS_SAMPLES = 1024
#: The formula of the detectable batch size, as printed.
FORMULA = "B = ceil((z * s / excess)^2): the excess stands z batch standard deviations s/sqrt(B) above the floor"


@dataclass(frozen=True)
class PerDimensionLoss:
    """An excess flow-matching loss per dimension (the peers' ``.mean()``) and the batch size that shows it.

    Attributes:
        dim: d.
        excess: the excess loss per dimension, ``∫ε² dt / d``.
        floor: the exact field's loss per dimension, ``E ℓ(v)`` (None where it is not finite or not known).
        std: s, the standard deviation of one sample's per-dimension loss ℓ (None when not measured).
        z: the one-sided normal quantile at ``confidence``.
        confidence: the level of the detection.
        batch: ``ceil((z·s/excess)²)`` (None without s; None also for a zero excess, which no batch shows).
        kind: ``"estimate"``.
    """

    dim: int
    excess: float
    floor: float | None
    std: float | None
    z: float
    confidence: float
    batch: int | None
    kind: str = "estimate"

    @property
    def loss(self) -> float | None:
        """The per-dimension loss a training run logs (on average) with this excess: floor + excess."""
        return None if self.floor is None else self.floor + self.excess

    def to_dict(self) -> dict:
        return {"dim": self.dim, "excess_per_dim": self.excess, "floor_per_dim": self.floor,
                "loss_per_dim": self.loss, "loss_std_per_dim": self.std, "z": self.z, "confidence": self.confidence,
                "detectable_batch": self.batch, "formula": FORMULA, "kind": self.kind}

    def describe(self) -> str:
        """One line for the terminal."""
        text = f"{self.excess:.4g} per dimension"
        if self.floor is not None:
            text += f" above the exact field's {self.floor:.6g} (a logged loss of {self.loss:.6g})"
        if self.batch is not None:
            text += (f"; shows at batch size B >= {self.batch} (z = {self.z:.3g}, s = {self.std:.4g}: "
                     f"B = ceil((z s / excess)^2), estimate)")
        return text


def detectable_batch(excess: float, std: float, z: float) -> int | None:
    """``ceil((z·s/excess)²)``: the smallest batch whose mean's standard deviation ``s/√B`` is ≤ excess/z.

    Example:
        >>> detectable_batch(0.01, 0.5, 2.0)
        10000
    """
    if not (excess > 0 and math.isfinite(excess)) or not math.isfinite(std):
        return None
    # max(1, ·): the ratio is tiny for a large excess; round first so 10000.000000002 is 10000.
    return max(1, math.ceil(round((z * std / excess) ** 2, 9)))


def per_dimension(*, excess_total: float, dim: int, floor_total: float | None, std: float | None,
                  confidence: float) -> PerDimensionLoss:
    """An excess of the summed loss ``∫ε² dt`` in the peers' convention (see the module docstring).

    Args:
        excess_total: the excess ``∫ε² dt`` of the loss summed over dimensions (gifsym's convention).
        dim: d.
        floor_total: the exact field's summed loss (None when unknown).
        std: s, the standard deviation of one sample's **per-dimension** loss (None when not measured).
        confidence: the one-sided level of the detection.
    """
    from scipy.stats import norm

    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise NumericError(f"dim must be a positive integer, got {dim!r}")
    z = float(norm.ppf(confidence))
    exc = float(excess_total) / dim
    floor = None if floor_total is None or not math.isfinite(floor_total) else float(floor_total) / dim
    batch = None if std is None else detectable_batch(exc, float(std), z)
    return PerDimensionLoss(dim, exc, floor, None if std is None else float(std), z, float(confidence), batch)


def conditional_losses(model, t: float, coef, z: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """Per-sample ``ℓ = |ṽ(t, a z + b x₁) − (ȧ z + ḃ x₁)|² / d`` at one time (coef = (a, b, ȧ, ḃ) at t).

    Example:
        >>> z, x1 = np.ones((2, 2)), np.zeros((2, 2))
        >>> conditional_losses(lambda t, x: 0 * x, 0.5, (0.5, 0.5, -1.0, 1.0), z, x1).tolist()  # |−z|²/2
        [1.0, 1.0]
    """
    a, b, da, db = (float(c) for c in coef)
    target = da * z + db * x1
    diff = np.asarray(model(t, a * z + b * x1), dtype=np.float64) - target
    return np.mean(diff * diff, axis=1)


def loss_std(model, sampler, *, k: int) -> float | None:
    """s: the standard deviation of one per-dimension loss ℓ under ``t ~ U[0, 1]``, from the first k pairs
    ``(Z, X₁)`` of ``sampler`` at each grid time (``Var ℓ = ∫E[ℓ²|t] dt − (∫E[ℓ|t] dt)²``, trapezoid rule).

    None where ȧ or ḃ is not finite at a grid time (the loss is not defined there).
    """
    coef = np.asarray(sampler.coef)
    if not np.all(np.isfinite(coef)):
        return None
    ts = np.asarray(sampler.times)
    z, x1 = sampler.z[:k], sampler.x1[:k]
    m1, m2 = [], []
    for i, tt in enumerate(ts):
        ell = conditional_losses(model, float(tt), coef[:, i], z, x1)
        m1.append(float(np.mean(ell)))
        m2.append(float(np.mean(ell * ell)))
    mean = float(np.trapezoid(m1, ts))
    var = float(np.trapezoid(m2, ts)) - mean * mean
    return math.sqrt(max(var, 0.0))


def model_loss(error, model, sampler, *, dim: int, confidence: float, k: int = LOSS_SAMPLES) -> PerDimensionLoss:
    """The model's own excess loss per dimension, ``∫ε̂² dt / d`` (trapezoid rule over the error profile's
    estimates), above the exact field's (``error.irreducible``), with s from :func:`loss_std` on k pairs.
    """
    ts = np.asarray(error.times)
    excess = float(np.trapezoid(np.square(np.asarray(error.estimate)), ts))
    irr = error.irreducible
    floor = float(np.trapezoid(np.asarray(irr, dtype=float), ts)) if all(x is not None for x in irr) else None
    std = loss_std(model, sampler, k=min(int(k), len(sampler.z)))
    return per_dimension(excess_total=excess, dim=dim, floor_total=floor, std=std, confidence=confidence)


__all__ = ["FORMULA", "LOSS_SAMPLES", "PerDimensionLoss", "conditional_losses", "detectable_batch", "loss_std",
           "model_loss", "per_dimension"]
