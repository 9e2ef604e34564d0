"""Decisions: capabilities that combine the theory with numerics (sampler plans, schedule design).

This package sits above :mod:`gifsym.numerics` and below the facade. It imports nothing at import time;
use the modules (``gifsym.decisions.plan``, …) directly.
"""
