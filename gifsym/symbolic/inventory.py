"""The one inventory of schedules and targets that tests, benchmarks and derivations iterate over.

A schedule or target added here is exercised everywhere at once. Each entry is a spec (or the keyword
arguments of :func:`gifsym.symbolic.schedule` / :func:`gifsym.symbolic.target`) and a short id for test names.

Example:
    >>> [s.name for s in schedules()][:3]
    ['linear', 'trigonometric', 'follmer']
"""

from __future__ import annotations

from gifsym.symbolic.classes import CLASSES
from gifsym.symbolic.schedule import CATALOGUE, Schedule, schedule
from gifsym.symbolic.target import Target, target

#: Custom schedules (a, b) that satisfy every assumption, so they run through every check.
CUSTOM_SCHEDULES: dict[str, dict[str, str]] = {
    "custom-quadratic": {"a": "(1 - t)**2", "b": "t*(2 - t)"},
}

#: Peer libraries' schedules that satisfy every assumption (ids -> spec; see gifsym.convert): few, since every
#: test runs over them.
PEER_SCHEDULES: dict[str, str] = {
    "sd3": "sd3:shift=3",
}

#: Exact targets: id -> (spec or None, keyword arguments for gifsym.target).
EXACT_TARGETS: dict[str, tuple[str, dict]] = {
    "gauss-1d": ("gaussian:sigma=0.5", {}),
    "gauss-2d-mean": ("gaussian:sigma=0.7,dim=2,mean=[1,-0.5]", {}),
    "gauss-full": ("gaussian", {"cov": [[1.0, 0.3], [0.3, 0.5]], "mean": [0.5, 0.0]}),
    "gmm-iso": ("gmm", {"weights": [0.3, 0.7], "means": [[-1.0, 0.0], [1.0, 0.5]], "sigma": 0.4}),
    "gmm-sigmas": ("gmm", {"weights": [0.2, 0.5, 0.3], "means": [[-2.0], [0.0], [1.5]], "sigmas": [0.3, 0.6, 0.4]}),
    "gmm-full": ("gmm", {"weights": [0.5, 0.5], "means": [[-1.0, 0.0], [1.0, 1.0]],
                         "covariances": [[[0.5, 0.1], [0.1, 0.3]], [[0.2, 0.0], [0.0, 0.6]]]}),
}

#: Target classes of math.md §3 (each class's own example, and combinations), as specs.
CLASS_TARGETS: dict[str, str] = {
    **{c.spec: c.example for c in CLASSES},
    "slc+slcvx": "slc:kappa=2+slcvx:beta=4",
    "ball+slc-neg": "ball:R=1+slc:kappa=-0.5",
}


def schedules() -> list[Schedule]:
    """Every catalogue schedule (default parameters), every custom and every peer schedule above."""
    return ([schedule(n) for n in CATALOGUE] + [schedule(**kw) for kw in CUSTOM_SCHEDULES.values()]
            + [schedule(spec) for spec in PEER_SCHEDULES.values()])


def schedule_ids() -> list[str]:
    return list(CATALOGUE) + list(CUSTOM_SCHEDULES) + list(PEER_SCHEDULES)


def exact_targets() -> dict[str, Target]:
    return {k: target(spec, **kw) for k, (spec, kw) in EXACT_TARGETS.items()}


def class_targets() -> dict[str, Target]:
    return {k: target(spec) for k, spec in CLASS_TARGETS.items()}
