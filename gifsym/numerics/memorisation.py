r"""Memorisation statistics: how close generated samples are to the training points of a data target.

The exact flow to an empirical law ``(1/N) Σ δ_{y_i}`` (``empirical:FILE``, σ = 0) ends *on* the training
points: it memorises by construction. These statistics measure how far a set of samples ``x_1..x_n`` is
from that, against the data's own scale:

* the **data spacing** ``s``: the median over training points of the distance to the nearest *other*
  training point;
* the **fraction within δ**: the share of samples at distance ≤ δ of some training point (default
  ``δ = s/10``, a copy up to a tenth of the typical gap between training points);
* the **distinct points hit**: how many different training points are the nearest neighbour of a sample
  within δ (a model that copies one point hits 1; a memorising flow hits up to min(n, N));
* the **nearest-neighbour distance** of the samples, its median against ``s`` (``≪ 1``: copies; ``≈ 1``:
  new points at the data's own spacing).

Distances are Euclidean, computed exactly by a k-d tree (:class:`scipy.spatial.cKDTree`).

Example:
    >>> import numpy as np
    >>> data = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> m = memorisation(data[[0, 0, 1]] + 1e-3, data)
    >>> m.fraction_within, m.distinct_hit, m.data_spacing
    (1.0, 2, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gifsym.errors import NumericError

#: δ as a fraction of the data spacing when none is given.
DELTA_FRACTION = 0.1


@dataclass(frozen=True)
class Memorisation:
    """Memorisation statistics of n samples against N training points (see the module docstring).

    Attributes:
        delta: δ.
        fraction_within: share of samples within δ of a training point.
        distinct_hit: distinct training points that are the nearest neighbour of a sample within δ.
        n_samples, n_data: n and N.
        nn_median: median distance from a sample to its nearest training point.
        data_spacing: median distance from a training point to its nearest other training point.
        kind: ``"estimate"`` (statistics of the given samples).
    """

    delta: float
    fraction_within: float
    distinct_hit: int
    n_samples: int
    n_data: int
    nn_median: float
    data_spacing: float
    kind: str = "estimate"

    @property
    def nn_ratio(self) -> float:
        """``nn_median / data_spacing``."""
        return self.nn_median / self.data_spacing if self.data_spacing > 0 else float("inf")

    def to_dict(self) -> dict:
        return {"delta": self.delta, "fraction_within": self.fraction_within, "distinct_hit": self.distinct_hit,
                "n_samples": self.n_samples, "n_data": self.n_data, "nn_median": self.nn_median,
                "data_spacing": self.data_spacing, "nn_ratio": self.nn_ratio, "kind": self.kind}

    def __str__(self) -> str:
        return (f"memorisation: {100 * self.fraction_within:.1f}% of {self.n_samples} samples within delta = "
                f"{self.delta:.3g} of a training point ({self.distinct_hit} distinct of {self.n_data} hit); "
                f"median nearest-neighbour distance {self.nn_median:.3g} = {self.nn_ratio:.3g} x the data's own "
                f"spacing {self.data_spacing:.3g}")


def memorisation(samples, data, *, delta: float | None = None) -> Memorisation:
    """Memorisation statistics of ``samples`` (n, d) against training ``data`` (N, d), N ≥ 2.

    Raises:
        NumericError: shapes that do not match, fewer than 2 training points, non-finite values, δ < 0.
    """
    from scipy.spatial import cKDTree

    x, y = np.asarray(samples, dtype=float), np.asarray(data, dtype=float)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or len(y) < 2 or len(x) < 1:
        raise NumericError(f"memorisation needs samples (n, d) and at least 2 training points (N, d); got "
                           f"{x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise NumericError("memorisation: samples and data must be finite")
    tree = cKDTree(y)
    spacing = float(np.median(tree.query(y, k=2)[0][:, 1]))  # k = 2: the nearest other point
    if delta is None:
        delta = DELTA_FRACTION * spacing
    elif not (isinstance(delta, (int, float)) and np.isfinite(delta) and delta >= 0):
        raise NumericError(f"memorisation: delta={delta!r} must be a number >= 0")
    dist, idx = tree.query(x, k=1)
    within = dist <= delta
    return Memorisation(float(delta), float(np.mean(within)), int(len(np.unique(idx[within]))), len(x), len(y),
                        float(np.median(dist)), spacing)


def pca_projection(reference, *others, components: int = 2):
    """Project ``reference`` and ``others`` on the first principal components of ``reference`` (centred
    SVD); returns the projected arrays and the explained variance fractions."""
    ref = np.asarray(reference, dtype=float)
    mean = ref.mean(axis=0)
    _, sv, vt = np.linalg.svd(ref - mean, full_matrices=False)
    basis = vt[:components].T
    var = sv**2
    frac = var[:components] / var.sum() if var.sum() > 0 else np.zeros(components)
    return [(np.asarray(a, dtype=float) - mean) @ basis for a in (ref, *others)], frac


__all__ = ["DELTA_FRACTION", "Memorisation", "memorisation", "pca_projection"]
