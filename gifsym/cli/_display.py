"""Terminal output of the CLI with rich: formulas in compact form, "where" lists, tables, progress.

Everything is printed through one :func:`console` per command (markup off: formulas contain brackets that
rich would read as tags). On a terminal rich adds colour and a spinner for long steps (on stderr); piped
or captured output is plain text at a fixed width, so it is the same everywhere. ``--json`` never comes
here.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sympy
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sympy.printing.str import StrPrinter

#: Width of output that does not go to a terminal (captured, piped, redirected).
PLAIN_WIDTH = 120

#: The mark of each assumption status in tables.
MARKS = {"holds": ("✓", "green"), "violated": ("✗", "red"), "unknown": ("?", "yellow")}

_GREEK = {
    r"\beta": "β", r"\sigma": "σ", r"\varphi": "φ", r"\phi": "φ", r"\kappa": "κ", r"\lambda": "λ",
    r"\theta": "θ", r"\rho": "ρ", r"\min": "min", r"\max": "max",
}


def console(*, stderr: bool = False) -> Console:
    """A console for this command: markup and highlighting off (formulas are text, not markup)."""
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    width = None if terminal else int(os.environ.get("COLUMNS", PLAIN_WIDTH))
    return Console(file=stream, markup=False, highlight=False, emoji=False, width=width,
                   soft_wrap=not terminal)


def plain_name(latex: str) -> str:
    """A quantity's LaTeX name as terminal text: ``\\beta(s)`` -> ``β(s)``."""
    out = latex
    for k, v in _GREEK.items():
        out = out.replace(k, v)
    return out.replace("{", "").replace("}", "").replace("\\", "").replace(" ", "")


class _Printer(StrPrinter):
    """SymPy's str printer with readable branches and sets: ``{u if t < 1; -oo otherwise}``, ``[0, 1)``."""

    def _print_Piecewise(self, expr):
        parts = []
        for value, cond in expr.args:
            v = self._print(value)
            parts.append(f"{v} otherwise" if cond == sympy.true else f"{v} if {self._print(cond)}")
        return "{" + "; ".join(parts) + "}"

    def _print_Interval(self, i):
        lo = "(" if i.left_open else "["
        hi = ")" if i.right_open else "]"
        return f"{lo}{self._print(i.start)}, {self._print(i.end)}{hi}"

    def _print_Union(self, u):
        return " ∪ ".join(self._print(a) for a in u.args)

    def _print_EmptySet(self, e):
        return "∅"


def plain(expr: Any, symbols: Iterable[tuple[str, str]] = ()) -> str:
    """An expression as one line of text, quantities under their own names (``β(s)``, ``φ``)."""
    if expr is None:
        return "-"
    if not isinstance(expr, sympy.Basic) and not isinstance(expr, sympy.MatrixBase):
        return str(expr)
    names = dict(symbols)
    free = getattr(expr, "free_symbols", set())
    rename = {s: sympy.Symbol(plain_name(names[s.name])) for s in free
              if isinstance(s, sympy.Symbol) and s.name in names and names[s.name] != s.name}
    e = expr.xreplace(rename) if rename else expr
    printer = _Printer()
    if isinstance(e, sympy.MatrixBase):
        rows = ["[" + ", ".join(printer.doprint(x) for x in e.row(i)) + "]" for i in range(e.shape[0])]
        return rows[0] if e.shape[0] == 1 else "[" + ", ".join(rows) + "]"
    return printer.doprint(e)


def number(v: Any) -> str:
    """A value for a table: 6 significant digits, ``inf`` / ``-inf``, ``n/a`` for none; expressions as text."""
    if v is None:
        return "n/a"
    if isinstance(v, sympy.Basic) and v.is_number:
        try:
            v = float(v)
        except (TypeError, ValueError):
            return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return "inf" if v == math.inf else "-inf" if v == -math.inf else f"{v:.6g}"
    return str(v)


def mark(status: str) -> Text:
    sym, style = MARKS.get(status, ("?", "yellow"))
    return Text(sym, style=style)


def formulas(con: Console, rows: Sequence[tuple[str, Any]], compact: Any = None, *, indent: int = 2) -> None:
    """``label = formula`` lines, labels aligned; formulas are SymPy (printed with the quantities' names)
    or text."""
    symbols = compact.symbols if compact is not None else ()
    width = max((len(label) for label, _ in rows), default=0)
    for label, e in rows:
        text = e if isinstance(e, str) else plain(e, symbols)
        con.print(" " * indent + f"{label:<{width}} = {text}")


def where(con: Console, compact: Any, *, indent: int = 2) -> None:
    """The "where" list of a compact form: each quantity, its definition and what it is."""
    if compact is None or not compact.definitions:
        return
    names = dict(compact.symbols)
    meanings = dict(compact.meanings)
    rows = [(plain_name(names.get(d.name, d.name)), plain(d.sympy, compact.symbols), meanings.get(d.name, ""))
            for d in compact.definitions]
    w1 = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    con.print(" " * indent + "where")
    for n, d, m in rows:
        con.print(" " * (indent + 2) + f"{n:<{w1}} = {d:<{w2}}" + (f"   ({m})" if m else ""))


def values_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Table:
    """A right-aligned table of numbers."""
    table = Table(title=title, title_justify="left", box=None, pad_edge=False, padding=(0, 2))
    for c in columns:
        table.add_column(c, justify="right")
    for r in rows:
        table.add_row(*(number(v) for v in r))
    return table


def heading(con: Console, text: str) -> None:
    con.print(Text(text, style="bold"))


@contextlib.contextmanager
def working(text: str, *, enabled: bool = True, delay: float = 1.0) -> Iterator[None]:
    """A spinner (rich status) on stderr while a step runs, shown once it has taken ``delay`` seconds, and
    only on a terminal: never when stdout or stderr is not a tty, and never with ``enabled=False`` (the
    commands pass ``not as_json``), so piped and JSON output stay clean."""
    if not (enabled and sys.stderr.isatty() and sys.stdout.isatty()):
        yield
        return
    import threading

    status = console(stderr=True).status(text, spinner="dots")
    lock = threading.Lock()
    done = False

    def start() -> None:
        with lock:
            if not done:
                status.start()

    timer = threading.Timer(delay, start)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            done = True
            timer.cancel()
            status.stop()


@contextlib.contextmanager
def steps(title: str) -> Iterator[Any]:
    """A progress bar on stderr over named steps, only when stderr is a terminal.

    Yields a callback ``update(name, i, n)``: step ``i`` of ``n`` (0-based) named ``name`` is starting.
    """
    if not sys.stderr.isatty():
        yield lambda name, i, n: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(title), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=None)

        def update(name: str, i: int, n: int) -> None:
            bar.update(task, completed=i, total=n, description=name)

        yield update


def verify_report(con: Console, report: Any) -> None:
    """A verify report as two tables: one line per check, and the bounds check's rows per time."""
    head = f"verify {report.schedule} -> {report.target}" + (f" (member: {report.member})" if report.member else "")
    heading(con, head)
    con.print(f"  {report.samples} samples, d = {report.dim}, seed {report.seed}, {report.wall_s:.1f} s")
    table = Table(box=None, pad_edge=False, padding=(0, 2), show_header=True)
    for c in ("", "check", "result"):
        table.add_column(c, overflow="fold")
    status = {"passed": "holds", "failed": "violated", "skipped": "unknown"}
    for c in report.checks:
        table.add_row(mark(status.get(c.status, "unknown")), c.name, c.message)
    con.print(table)
    rows = next((c.rows for c in report.checks if c.name == "bounds"), ())
    if rows:
        con.print(values_table("bounds: lower <= eigenvalues of ∇v <= upper; tightness = max|λ| / θ",
                               ("t", "lower", "min λ", "max λ", "upper", "θ", "tightness"),
                               [[r[k] for k in ("t", "lower", "min_eig", "max_eig", "upper", "theta", "tightness")]
                                for r in rows]))
    con.print("all checks hold" if report.passed else
              f"FAILED: {', '.join(c.name for c in report.failures())}")


def wrapped(con: Console, label: str, text: str) -> str:
    """``label`` followed by the whole of ``text`` (never cut short), wrapped at the console's width (at least
    60 columns) with continuation lines indented under the text; words (formulas) are never split.

    Example:
        >>> from rich.console import Console
        >>> print(wrapped(Console(width=60), "  note: ", "word " * 15))
          note: word word word word word word word word word word
                word word word word word
    """
    import textwrap

    width = max(60, (con.width or PLAIN_WIDTH) - 1)
    return textwrap.fill(" ".join(str(text).split()), width=width, initial_indent=label,
                         subsequent_indent=" " * len(label), break_long_words=False, break_on_hyphens=False)

