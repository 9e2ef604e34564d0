"""Shared pieces of the CLI: options, spec resolution, JSON encoding of expressions."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import click
import sympy

from gifsym.errors import GifsymError
from gifsym.symbolic.expr import as_expr


def sympy_text(expr: Any) -> str:
    """The ``"sympy"`` string of a JSON field, which ``sympy.sympify`` reads back to the same expression
    (interface.md, "Reading JSON back"; :func:`gifsym.symbolic.printing.sympy_string`). Every ``"sympy"``
    field is written through here, so the round trip is tested in one place.

    Example:
        >>> sympy_text(sympy.sqrt(sympy.Symbol("E_s")))
        'sqrt(E_s)'
    """
    from gifsym.symbolic.printing import sympy_string

    return sympy_string(expr)


def expr_json(expr: Any, readable: Readable | None = None) -> dict[str, Any]:
    """``{"sympy": str(expr), "latex": latex(expr)}`` as interface.md asks for every expression field, plus
    ``"compact": {"sympy", "latex"}`` (the same expression in the flow's named quantities) when
    ``readable`` holds the compact forms of the output."""
    from gifsym.output.latex import latex_expr

    out: dict[str, Any] = {"sympy": sympy_text(expr), "latex": latex_expr(expr)}
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
        return {"sympy": sympy_text(form), "latex": self._compact.expr_latex(form)}

    def definitions(self) -> list[dict[str, str]]:
        """``[{"name", "sympy", "latex", "symbol", "meaning"}]``: ``sympy`` in t, numbers and earlier names;
        ``latex`` its LaTeX; ``symbol`` the LaTeX of the name."""
        symbols, meanings = dict(self._compact.symbols), dict(self._compact.meanings)
        return [{"name": d.name, "sympy": sympy_text(d.sympy), "latex": d.latex, "symbol": symbols.get(d.name, d.name),
                 "meaning": meanings.get(d.name, "")} for d in self._compact.definitions]


def _key(e: Any) -> Any:
    if isinstance(e, sympy.MatrixBase) and not isinstance(e, sympy.ImmutableMatrix):
        return sympy.ImmutableMatrix(e)
    return e


def _float_down(x: Any) -> float:
    """The largest float ≤ x (an exact SymPy rational)."""
    f = float(x)
    if sympy.Rational(f) > x:
        f = math.nextafter(f, -math.inf)
    return f


def _float_up(x: Any) -> float:
    f = float(x)
    if sympy.Rational(f) < x:
        f = math.nextafter(f, math.inf)
    return f


def expr_kind(expr: Any) -> str:
    """``exact`` for a closed form; ``certified`` when it contains numerically located points (Floats, each
    from a certified enclosure, placed so that the bound stays valid)."""
    return "certified" if isinstance(expr, sympy.Basic) and expr.atoms(sympy.Float) else "exact"


def known_json(value: Any, kind: str = "exact", enclosure: Any = None,
               readable: Readable | None = None) -> dict[str, Any]:
    """A value with its kind of knowledge (interface.md, "Results carry their conditions"):
    ``{"value": float, "kind", "sympy"}`` (+ ``"enclosure": [lo, hi]`` for certified values, rounded
    outward to floats); ``"value": null`` only for ``±oo`` (the sign is in ``"sympy"``); an expression in
    symbolic parameters gives ``{"sympy", "latex", "kind"}`` (+ ``"compact"`` with ``readable``).

    Raises:
        GifsymError: the value is not a real number (nothing is silently turned into null).
    """
    if isinstance(value, float):
        if math.isnan(value):
            raise GifsymError("internal: a value could not be evaluated (nan)")
        value = sympy.oo if value == math.inf else -sympy.oo if value == -math.inf else sympy.Float(value)
    value = as_expr(value, what="value")
    if value.free_symbols:
        return {**expr_json(value, readable), "kind": kind}
    if value in (sympy.oo, -sympy.oo):
        return {"value": None, "sympy": sympy_text(value), "kind": kind}
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise GifsymError(f"internal: the value {value} is not a real number") from None
    if not math.isfinite(x):
        raise GifsymError(f"internal: the value {value} could not be evaluated as a finite float")
    out: dict[str, Any] = {"value": x, "kind": kind}
    if kind == "exact":
        out["sympy"] = sympy_text(value)
    if kind == "certified" and enclosure is not None:
        out["enclosure"] = [_float_down(enclosure[0]), _float_up(enclosure[1])]
    return out


def kinded_expr_json(expr: Any, readable: Readable | None = None) -> dict[str, Any]:
    """An expression field with its kind (see :func:`expr_kind`), and its compact form with ``readable``."""
    return {**expr_json(expr, readable), "kind": expr_kind(expr)}


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
    f = click.option("--schedule", "-s", "schedule_spec", metavar="SPEC", help=schedule_help())(f)
    return f


def schedule_help() -> str:
    """The ``--schedule`` help, generated from the catalogue and the peer list (every spec name)."""
    from gifsym.symbolic.schedule import CATALOGUE, PEER_CATALOGUE

    return (f"Schedule spec: {', '.join(CATALOGUE)}; peer libraries' schedules: {', '.join(PEER_CATALOGUE)}. "
            "Parameters after a colon (vp:beta_min=0.1,beta_max=20); 'gifsym schedules --peers' shows them.")


def target_help() -> str:
    """The ``--target`` help, generated from the exact targets and the classes (each class's example)."""
    from gifsym.symbolic.classes import CLASSES

    classes = ", ".join(c.example for c in CLASSES)
    return ("Target spec: gaussian:sigma=0.5 (dim=, mean=), gmm:FILE.json, empirical:FILE (.npy, .npz, .csv; "
            f",sigma=0.1 smooths it), or a class: {classes}; classes combine with '+'.")


def resolve_schedule(schedule_spec: str | None, a_expr: str | None, b_expr: str | None, params: tuple[str, ...]):
    """Build the schedule named by the CLI options."""
    from gifsym.symbolic.schedule import schedule

    kw: dict[str, str | None] = {}
    for p in params:
        name, eq, value = p.partition("=")
        if name.strip() in kw:
            raise GifsymError(f"--param {name.strip()} is given twice")
        kw[name.strip()] = value.strip() if eq else None
    if schedule_spec is None and a_expr is None and b_expr is None:
        raise GifsymError("give --schedule SPEC or --a EXPR --b EXPR")
    if schedule_spec is not None and (a_expr is not None or b_expr is not None):
        given = " and ".join(f"--{n} {v!r}" for n, v in (("a", a_expr), ("b", b_expr)) if v is not None)
        raise GifsymError(f"give either a schedule spec ({schedule_spec!r}) or --a/--b, not both (also got {given})")
    if schedule_spec is None and (a_expr is None or b_expr is None):
        missing = "--b" if b_expr is None else "--a"
        raise GifsymError(f"a custom schedule needs both --a and --b ({missing} is missing)")
    if schedule_spec is not None:
        if kw:
            raise GifsymError("--param is for custom schedules; put catalogue parameters in the spec (vp:beta_min=1)")
        return schedule(schedule_spec)
    return schedule(a=a_expr, b=b_expr, **kw)


def parse_times(text: str | None, *, option: str = "--at") -> tuple[float, ...] | None:
    """``"0.1,0.5,1"`` -> ``(0.1, 0.5, 1.0)`` (None when the option is not given); each time a number in [0, 1].

    Raises:
        GifsymError: an empty list or an empty item (``0.5,,0.6``), a non-number, a time outside [0, 1].
    """
    if text is None:
        return None
    from gifsym.theory.jacobian_bounds import time_point

    hint = "give times in [0, 1] like 0.1,0.5,1"
    if not text.strip():
        raise GifsymError(f"{option} is empty; {hint}")
    out = []
    for i, item in enumerate(text.split(","), start=1):
        item = item.strip()
        if not item:
            raise GifsymError(f"{option} {text!r}: time number {i} is empty; {hint}")
        try:
            out.append(float(time_point(item)))
        except GifsymError as e:
            raise GifsymError(f"{option}: {e}; {hint}") from None
    return tuple(out)


def target_option(f):
    return click.option("--target", "-T", "target_spec", required=True, metavar="SPEC",
                        help=target_help())(f)


def distributed_option(f):
    """``--distributed``: join a multi-process JAX run before anything else touches JAX."""
    return click.option("--distributed", is_flag=True,
                        help="Join a multi-process run (jax.distributed) from the environment (SLURM, Kubernetes, "
                             "Open MPI, or JAX_COORDINATOR_ADDRESS/JAX_NUM_PROCESSES/JAX_PROCESS_ID); a data "
                             "target's points are split over every process's devices.")(f)


def start_distributed(flag: bool) -> None:
    """Call :func:`gifsym.numerics.distributed.initialize` from the environment when ``flag`` is set."""
    if flag:
        from gifsym.numerics.distributed import initialize

        initialize()


def exclusive(**flags: bool) -> None:
    """Refuse options that exclude each other (``--json --latex``) instead of silently dropping one."""
    on = [name for name, value in flags.items() if value]
    if len(on) > 1:
        shown = " and ".join("--" + n.replace("_", "-") for n in on)
        raise GifsymError(f"{shown} exclude each other; give one")


def require_assumptions(gif, ids, what: str) -> None:
    """Refuse a command whose results need schedule assumptions the checker proved violated (a schedule that
    is merely undecided passes: the results say what they assume).

    Raises:
        AssumptionError: one of ``ids`` is violated.
    """
    from gifsym.errors import AssumptionError

    for a in ids:
        v = gif.schedule.verdict(a)
        if v.status == "violated":
            raise AssumptionError(f"{what} needs {a}, which is violated for schedule {gif.schedule.spec}: {v.reason}")


#: Computations still running in a worker thread after Ctrl-C (see :func:`interruptible`).
PENDING: list = []


def interruptible(fn, /, *args, **kwargs):
    """Run a long numerical computation (JAX/XLA) in a worker thread so that Ctrl-C reaches the main thread at
    once: XLA holds the main thread in C++ for minutes, where Python's signal handler cannot run. On Ctrl-C
    the KeyboardInterrupt propagates (``gifsym.cli.main`` then exits 130 at once, without output)."""
    import threading

    result: dict = {}

    def work():
        try:
            result["value"] = fn(*args, **kwargs)
        except BaseException as e:  # noqa: BLE001 — re-raised in the main thread
            result["error"] = e

    worker = threading.Thread(target=work, name="gifsym-compute", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.05)
    except KeyboardInterrupt:
        PENDING.append(worker)
        raise
    if "error" in result:
        raise result["error"]
    return result["value"]


def fail(message: str) -> None:
    """Print one ``Error:`` line and exit 2 (a user mistake)."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)
