"""Shared pieces of the CLI: options, spec resolution, JSON encoding of expressions."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import click
import sympy

from gifsym.errors import GifsymError


def expr_json(expr: Any, readable: Readable | None = None) -> dict[str, Any]:
    """``{"sympy": str(expr), "latex": latex(expr)}`` as interface.md asks for every expression field, plus
    ``"compact": {"sympy", "latex"}`` (the same expression in the flow's named quantities) when
    ``readable`` holds the compact forms of the output."""
    from gifsym.output.latex import latex_expr

    out: dict[str, Any] = {"sympy": str(expr), "latex": latex_expr(expr)}
    if readable is not None:
        out["compact"] = readable.compact_json(expr)
    return out


class Readable:
    """The compact forms of every expression of one JSON output, with one shared "where" list
    (interface.md, "Readable forms"): ``definitions`` in dependency order."""

    def __init__(self, schedule: Any, exprs: list[Any]) -> None:
        from gifsym.symbolic.compact import compact_many

        keep = [e for e in dict.fromkeys(_key(e) for e in exprs if e is not None)]
        self._compact = compact_many(keep, schedule)
        self._forms = dict(zip(keep, self._compact.expr))

    def compact_json(self, expr: Any) -> dict[str, str]:
        form = self._forms.get(_key(expr), expr)
        return {"sympy": str(form), "latex": self._compact.expr_latex(form)}

    def definitions(self) -> list[dict[str, str]]:
        """``[{"name", "sympy", "latex", "symbol", "meaning"}]``: ``sympy`` in t, numbers and earlier names;
        ``latex`` its LaTeX; ``symbol`` the LaTeX of the name."""
        symbols, meanings = dict(self._compact.symbols), dict(self._compact.meanings)
        return [{"name": d.name, "sympy": str(d.sympy), "latex": d.latex, "symbol": symbols.get(d.name, d.name),
                 "meaning": meanings.get(d.name, "")} for d in self._compact.definitions]


def _key(e: Any) -> Any:
    if isinstance(e, sympy.MatrixBase) and not isinstance(e, sympy.ImmutableMatrix):
        return sympy.ImmutableMatrix(e)
    return e


def number_json(x: Any) -> float | None:
    """A JSON number; ``None`` (null) for +∞ and for values that are not finite reals."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def emit_json(obj: Any) -> None:
    """Print one JSON object on stdout."""
    click.echo(json.dumps(obj, indent=2, default=_default))


def _default(o: Any) -> Any:
    if isinstance(o, sympy.Basic):
        return expr_json(o)
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


def schedule_options(f):
    """``--schedule SPEC`` or ``--a EXPR --b EXPR`` (plus ``--param NAME=VALUE`` for custom parameters)."""
    f = click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
                     help="Parameter of a custom schedule (repeatable); NAME alone keeps it symbolic.")(f)
    f = click.option("--b", "b_expr", metavar="EXPR", help="Custom b_t (with --a).")(f)
    f = click.option("--a", "a_expr", metavar="EXPR", help="Custom a_t (with --b).")(f)
    f = click.option("--schedule", "-s", "schedule_spec", metavar="SPEC",
                     help="Schedule spec: linear, trigonometric, follmer, vp, subvp, ve (vp:beta_min=0.1,...).")(f)
    return f


def resolve_schedule(schedule_spec: str | None, a_expr: str | None, b_expr: str | None, params: tuple[str, ...]):
    """Build the schedule named by the CLI options."""
    from gifsym.symbolic.schedule import schedule

    kw: dict[str, str | None] = {}
    for p in params:
        name, eq, value = p.partition("=")
        kw[name.strip()] = value.strip() if eq else None
    if schedule_spec is None and a_expr is None and b_expr is None:
        raise GifsymError("give --schedule SPEC or --a EXPR --b EXPR")
    if schedule_spec is not None:
        if kw:
            raise GifsymError("--param is for custom schedules; put catalogue parameters in the spec (vp:beta_min=1)")
        return schedule(schedule_spec)
    return schedule(a=a_expr, b=b_expr, **kw)


def target_option(f):
    return click.option("--target", "-T", "target_spec", required=True, metavar="SPEC",
                        help="Target spec: gaussian:sigma=0.5, gmm:FILE.json, slc:kappa=2, slcvx:beta=4, "
                             "ball:R=1, conv:sigma=0.5,R=2; classes combine with '+'.")(f)


def fail(message: str) -> None:
    """Print one ``Error:`` line and exit 2 (a user mistake)."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)
