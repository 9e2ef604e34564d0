"""Shared pieces of the derivation scripts: options, the inventory of flows, and one record per flow.

Every script iterates over :mod:`gifsym.symbolic.inventory` (the one list of schedules and targets of the
project), takes ``--out DIR`` and ``--fast`` (a small subset, run by the test suite), and writes only
through :mod:`gifsym.io` (atomically).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

# Scripts run as `python derivations/x.py` from a checkout: make the checkout's gifsym importable even
# when it is not installed.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import sympy

from gifsym import GIF

from gifsym.symbolic import inventory
from gifsym.errors import GifsymError
from gifsym.output.latex import latex_expr

#: Default output folder (ignored by git).
DEFAULT_OUT = os.path.join(_ROOT, "out", "derivations")
#: Times of the value tables.
TIMES = (0.25, 0.5, 0.75, 0.9)
FAST_TIMES = (0.25, 0.75)
#: The subset of --fast: enough to exercise every code path (exact and quadrature constants, a bound
#: that stops short of t = 1) in seconds.
FAST_SCHEDULES = ("linear", "trigonometric")
FAST_TARGETS = ("slc", "ball", "conv")


def parse_args(description: str, argv: Sequence[str] | None = None, *, pdf: str | None = None,
               figure_format: bool = False) -> argparse.Namespace:
    """The options every script takes (``--out DIR``, ``--fast``), ``--pdf`` when ``pdf`` (its help) is
    given and ``--format png|svg|pdf`` when ``figure_format``; creates the output folder."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--out", default=DEFAULT_OUT, help=f"output folder (default {os.path.relpath(DEFAULT_OUT)})"
    )
    p.add_argument("--fast", action="store_true", help="a small subset (what the test suite runs)")
    if pdf is not None:
        p.add_argument("--pdf", action="store_true", help=pdf)
    if figure_format:
        p.add_argument("--format", default="png", choices=["png", "svg", "pdf"], help="figure format")
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    return args


def finish(paths: Sequence[str], message: str) -> int:
    """Print the files written (one per line, what the tests read) and log ``message``; exit code 0."""
    for path in paths:
        print(path)
    log(message)
    return 0


def schedules(fast: bool) -> list[tuple[str, Any]]:
    """``(id, Schedule)`` for every inventory schedule (catalogue and custom), or the fast subset."""
    pairs = list(zip(inventory.schedule_ids(), inventory.schedules()))
    return [(i, s) for i, s in pairs if not fast or i in FAST_SCHEDULES]


def class_targets(fast: bool) -> list[tuple[str, Any]]:
    """``(id, Target)`` for every target class of the inventory, or the fast subset."""
    return [(i, t) for i, t in inventory.class_targets().items() if not fast or i in FAST_TARGETS]


def times(fast: bool) -> tuple[float, ...]:
    return FAST_TIMES if fast else TIMES


def number(x: Any) -> float | None:
    """A JSON number; null for ±∞ and undefined values (as ``gifsym bounds --json``)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def expr(e: Any) -> dict[str, str]:
    return {"sympy": str(e), "latex": latex_expr(e)}


def constant(c: Any) -> dict[str, Any]:
    """A flow-map constant (:class:`gifsym.theory.flow_constants.FlowConstant`) as JSON."""
    value = getattr(c, "value", c)
    return {
        "value": number(value),
        "exact": None if getattr(c, "numeric", False) else str(value),
        "numeric": bool(getattr(c, "numeric", False)),
        "kind": str(getattr(c, "kind", "exact")),
        "enclosure": [float(x) for x in c.enclosure] if getattr(c, "enclosure", None) else None,
        "conditional_on": getattr(c, "conditional_on", None),
        "method": str(getattr(c, "method", "exact")),
        "latex": latex_expr(value),
    }


def record(schedule_id: str, target_id: str, flow: GIF, at: Sequence[float]) -> dict[str, Any]:
    """Bounds, values at ``at`` and flow-map constants of one flow, as JSON (an ``error`` when none apply)."""
    start = time.perf_counter()
    out: dict[str, Any] = {
        "schedule_id": schedule_id,
        "target_id": target_id,
        "schedule": flow.schedule.spec,
        "target": flow.target.spec,
    }
    try:
        b = flow.bounds()
        fm = flow.flow_map_lipschitz()
    except GifsymError as e:
        out["error"] = str(e)
        return out
    out.update(
        {
            "upper": expr(b.upper),
            "lower": expr(b.lower),
            "lipschitz": expr(b.lipschitz),
            "interval": interval_text(b.interval),
            "interval_latex": latex_expr(b.interval),
            "values": [
                {"t": float(r["t"]), **{k: _value(r[k]) for k in ("upper", "lower", "lipschitz")}}
                for r in b.values(list(at))
            ],
            "flow_map": {"forward": constant(fm.forward), "reverse": constant(fm.reverse)},
            "well_posed": interval_text(fm.interval),
            "well_posed_latex": latex_expr(fm.interval),
            "lemmas": list(b.lemmas),
            "seconds": round(time.perf_counter() - start, 3),
        }
    )
    return out


def interval_text(s: Any) -> str:
    """A SymPy set in the usual notation: ``[0, 1)``, ``∅``, ``[0, 1/2) ∪ (1/2, 1]``.

    Example:
        >>> interval_text(sympy.Interval.Ropen(0, 1))
        '[0, 1)'
    """
    if isinstance(s, sympy.Interval):
        return f"{'(' if s.left_open else '['}{s.start}, {s.end}{')' if s.right_open else ']'}"
    if s == sympy.S.EmptySet:
        return "∅"
    if isinstance(s, sympy.Union):
        return " ∪ ".join(interval_text(a) for a in s.args)
    return str(s)


def _value(v: Any) -> float | str | None:
    """A float (``±inf`` kept, so tables can show the sign), or the SymPy string of a symbolic value."""
    if isinstance(v, sympy.Basic) and v.free_symbols:
        return str(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def fmt(x: Any, *, digits: int = 6) -> str:
    """A number for a Markdown table: 6 significant digits, ``∞`` / ``−∞``, ``—`` for undefined."""
    if x is None:
        return "—"
    if isinstance(x, str):
        return f"`{x}`"
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.{digits}g}"


def write(path: str, text: str) -> str:
    """Write a text file atomically; returns the path."""
    from gifsym.io import write_atomic

    write_atomic(path, text)
    return path


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
