"""``gifsym bounds``: two-sided bounds on the Jacobian of the velocity, θ_t and the flow-map constants."""

from __future__ import annotations

from typing import Any

import click
import sympy

from gifsym.cli._common import (
    Readable,
    emit_json,
    exclusive,
    expr_json,
    kinded_expr_json,
    known_json,
    parse_times,
    resolve_schedule,
    schedule_options,
    target_option,
)
from gifsym.errors import GifsymError


def constant_json(c: Any, readable: Readable | None = None) -> dict:
    """A flow-map constant: its value with its kind (null only for +oo: no finite bound, ``reason`` says
    why), how it was obtained, and ``conditional_on`` when the flow is not shown to exist."""
    out = known_json(c.value, c.kind, c.enclosure, readable)
    out["method"] = c.method
    if c.reason:
        out["reason"] = c.reason
    if c.conditional_on:
        out["conditional_on"] = c.conditional_on
        if c.value.free_symbols or c.condition not in (sympy.true, sympy.false):
            out["condition"] = kinded_expr_json(c.condition, readable)
    return out


def source_json(src: Any, readable: Readable | None = None) -> dict | None:
    """Source stability (math.md §6): the cost of starting from N(0, a_0² I) when b_0 > 0."""
    if src is None:
        return None
    kind = src.kind
    return {"b0": known_json(src.b0, readable=readable), "second_moment": known_json(src.second_moment,
                                                                                      readable=readable),
            "gaussian_start_cost": known_json(src.gaussian_start_cost, readable=readable),
            "pushed_gaussian_start": known_json(src.pushed_gaussian_start, kind, src.pushed_enclosure, readable)}


def well_posed_json(fm: Any, readable: Readable | None = None) -> dict:
    """Where the flow is well posed, with its condition on symbolic parameters and the other cases."""
    out = kinded_expr_json(fm.interval, readable)
    wp = fm.well_posed
    if wp is None:
        out["reason"] = "well-posedness does not apply: " + next((n for n in fm.notes if "well posed" in n), "")
        return out
    out["reason"] = wp.reason
    if wp.condition is not sympy.true:
        out["condition"] = kinded_expr_json(wp.condition, readable)
        out["cases"] = [{"interval": kinded_expr_json(i, readable), "condition": kinded_expr_json(c, readable)}
                        for i, c in wp.cases]
    return out


def bounds_expressions(b: Any, fm: Any, rows: list[dict], src: Any = None) -> list[Any]:
    """Every expression :func:`bounds_json` prints (their compact forms share one "where" list)."""
    out = [b.upper, b.lower, b.lipschitz, fm.interval, b.interval]
    out += [p.formula for p in b.pieces] + [p.interval for p in b.pieces] + [p.where() for p in b.pieces]
    for c in (fm.forward, fm.reverse):
        out += [c.value, c.as_function_of_T, c.endpoint_formula, c.condition]
    if fm.well_posed is not None:
        out += [fm.well_posed.condition] + [e for case in fm.well_posed.cases for e in case]
    out += [v for row in rows for k, v in row.items() if k != "t" and isinstance(v, sympy.Basic)]
    if src is not None:
        out += [src.b0, src.second_moment, src.gaussian_start_cost, src.pushed_gaussian_start]
    return [e for e in out if isinstance(e, sympy.Basic)]


def bounds_json(b: Any, fm: Any, times: list, src: Any = None) -> dict:
    """The JSON object of interface.md (plus ``pieces``, ``notes`` and details of the flow-map constants).

    Every number carries its kind (exact / certified / estimate, see :func:`known_json`); expression fields
    carry theirs too (``certified`` when they contain numerically located points). Every expression field
    also has ``"compact"``, and ``"definitions"`` lists the named quantities those use (interface.md,
    "Readable forms").
    """
    exact_rows = b.values(times, exact=True)
    readable = Readable(b.schedule, bounds_expressions(b, fm, exact_rows, src))

    def ej(e):
        return kinded_expr_json(e, readable)

    def details(c):
        return {"as_function_of_T": ej(c.as_function_of_T) if c.as_function_of_T is not None else None,
                "endpoint_formula": ej(c.endpoint_formula) if c.endpoint_formula is not None else None}

    used = set(b.upper_envelope.pieces + b.lower_envelope.pieces)
    rows = [{k: known_json(v, readable=readable) for k, v in row.items()} for row in exact_rows]
    return {
        "schedule": b.schedule.spec,
        "target": b.target.spec,
        "upper": ej(b.upper),
        "lower": ej(b.lower),
        "lipschitz": ej(b.lipschitz),
        "flow_map": {
            "forward": constant_json(fm.forward, readable),
            "reverse": constant_json(fm.reverse, readable),
            "well_posed": well_posed_json(fm, readable),
            "details": {"forward": details(fm.forward), "reverse": details(fm.reverse)},
        },
        "interval": ej(b.interval),
        "lemmas": list(b.lemmas),
        "values": rows,
        "pieces": [{"lemma": p.lemma, "side": p.side, "params": {k: str(v) for k, v in p.params},
                    "formula": ej(p.formula), "interval": ej(p.interval), "holds_when": ej(p.where()),
                    "used": p in used}
                   for p in b.pieces],
        "source_stability": source_json(src, readable),
        "notes": list(b.notes) + [n for n in fm.notes if n not in b.notes],
        "definitions": readable.definitions(),
    }


def derive_all(flow: Any, assume: tuple[str, ...] = ()) -> tuple:
    """``(flow, path, bounds, flow-map constants, source stability or None)`` as ``bounds`` prints them; a
    σ_min path (a_1 > 0) is replaced by the GIF of the smoothed target (``path`` says how)."""
    from gifsym.errors import AssumptionError
    from gifsym.symbolic.convert.sigma_min import equivalent_flow
    from gifsym.theory import bounds as derive_bounds
    from gifsym.theory import flow_map_lipschitz, source_stability

    flow, path = equivalent_flow(flow)
    b = derive_bounds(flow, assume=assume)
    fm = flow_map_lipschitz(flow, assume=assume)
    try:
        src = source_stability(flow, assume=assume)
    except AssumptionError:  # no forward constant: nothing to say about the pushed-forward source
        src = None
    return flow, path, b, fm, src


def full_bounds_json(s: Any, flow: Any, path: Any, b: Any, fm: Any, src: Any, times: list) -> dict:
    """The JSON object of ``bounds --json`` (``s`` the schedule as given, ``flow`` the one derived for)."""
    out = bounds_json(b, fm, times, src)
    if path is not None:
        out["sigma_min_path"] = {"schedule": s.spec, "sigma_min": known_json(path.sigma_min),
                                 "equivalent_schedule": {"a": expr_json(path.schedule.a),
                                                         "b": expr_json(path.schedule.b)},
                                 "smoothed_target": flow.target.spec, "interval": expr_json(path.interval),
                                 "time_change": expr_json(path.time_change),
                                 "identity": path.identity.reason, "note": path.describe()}
    return out


@click.command("bounds")
@schedule_options
@target_option
@click.option("--at", "at", metavar="T1,T2,...", help="Also evaluate the bounds at these times in [0, 1].")
@click.option("--assume", multiple=True, metavar="ID",
              help="Take an assumption as given (e.g. S-mono) when the checker could not decide it (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--latex", is_flag=True, help="Print LaTeX.")
@click.option("--verbose", "-v", is_flag=True, help="Also print the formulas in t and every note.")
def bounds(schedule_spec, a_expr, b_expr, params, target_spec, at, assume, as_json, latex, verbose) -> None:
    """Bounds on the Jacobian of the velocity, its Lipschitz constant θ_t and the flow-map constants.

    Prints the combined upper and lower bounds on ∇v (with the lemma and time interval of each piece),
    θ_t = max(|upper|, |lower|), where the flow is well posed, Lip(X_{0,1}) and Lip(X_{1,0}), and the lemmas
    used. --at t1,t2 adds their values at those times.
    """
    from gifsym.gif import GIF
    from gifsym.symbolic.target import target
    from gifsym.theory.lemmas import ASSUMPTION_IDS

    exclusive(json=as_json, latex=latex)
    for a in assume:
        if a not in ASSUMPTION_IDS:
            raise GifsymError(f"--assume: unknown assumption id {a!r}; accepted: {', '.join(sorted(ASSUMPTION_IDS))}")
    times = list(parse_times(at) or ())
    s = resolve_schedule(schedule_spec, a_expr, b_expr, params)
    flow = GIF(s, target(target_spec))
    # A σ_min path (a_1 > 0) is the GIF of the smoothed target: every result below is for that GIF.
    from gifsym.cli._display import working

    with working("deriving the bounds and flow-map constants", enabled=not as_json):
        flow, path, b, fm, src = derive_all(flow, tuple(assume))
        if not (as_json or latex):  # the compact forms (cached) before printing starts, under the spinner
            from gifsym.symbolic.compact import compact_many

            compact_many((b.upper, b.lower, b.lipschitz), b.schedule)
    if as_json:
        emit_json(full_bounds_json(s, flow, path, b, fm, src, times))
        return
    if latex:
        click.echo(b.to_latex())
        click.echo(fm.to_latex())
        return
    print_bounds(b, fm, src, times or list(DEFAULT_TIMES), verbose=verbose,
                 sigma_min_note=None if path is None else path.describe(),
                 values=_stored_values(b, flow, tuple(assume), tuple(times or DEFAULT_TIMES)))


def _stored_values(b: Any, flow: Any, assume: tuple[str, ...], times: tuple[float, ...]) -> list[dict[str, Any]]:
    """``b.values(times)``, kept in the on-disk cache with the bounds: at a time where a formula is 0/0 or
    large, the value is a limit or an exact number whose realness SymPy checks slowly (0.3–0.5 s for the
    flow-map-heavy schedules), and a warm run would redo that check every time."""
    from gifsym import store

    return store.cached("bounds-values", {"schedule": flow.schedule, "target": flow.target, "assume": assume,
                                          "times": times}, {}, lambda: b.values(list(times)))


#: Times of the values table when --at is not given.
DEFAULT_TIMES = (0.0, 0.25, 0.5, 0.75, 0.9, 0.99)


def print_bounds(b: Any, fm: Any, src: Any, times: list[float], *, verbose: bool = False,
                 sigma_min_note: str | None = None, values: list[dict[str, Any]] | None = None) -> None:
    """The terminal form: compact formulas with their "where" list, a values table, one line per piece and
    per constant; ``verbose`` adds the formulas in t and every note. ``values``: ``b.values(times)`` when
    the caller has it already."""
    from rich.table import Table

    from gifsym.cli import _display as d
    from gifsym.symbolic.compact import compact_many

    con = d.console()
    s = b.schedule
    d.heading(con, f"flow: schedule {s.spec}, target {b.target.spec}")
    if sigma_min_note is not None:
        con.print(d.wrapped(con, "  sigma_min path: ", sigma_min_note), highlight=False)
    forms = compact_many((b.upper, b.lower, b.lipschitz), s)
    d.formulas(con, [("upper    u_t", forms.expr[0]), ("lower    l_t", forms.expr[1]),
                     ("theta_t", forms.expr[2])], forms)
    d.where(con, forms)
    if verbose:
        con.print("  in t:")
        d.formulas(con, [("u_t", b.upper), ("l_t", b.lower), ("theta_t", b.lipschitz)], indent=4)
    con.print(f"  interval: both bounds hold for t in {d.plain(b.interval)}")
    con.print()
    rows = [(r["t"], r["lower"], r["upper"], r["lipschitz"]) for r in (values if values is not None
                                                                       else b.values(times))]
    con.print(d.values_table("  values", ["t", "lower", "upper", "theta"], rows))
    con.print()
    used = set(b.upper_envelope.pieces + b.lower_envelope.pieces)
    dropped = {p: why for p, why in b.upper_envelope.dropped + b.lower_envelope.dropped}
    table = Table(title="  pieces", title_justify="left", box=None, pad_edge=False, padding=(0, 1),
                  show_header=False)
    for col in ("side", "lemma", "interval", "status"):
        table.add_column(col)
    for p in b.pieces:
        status = "used" if p in used else f"not used: {dropped.get(p, 'dominated')}"
        table.add_row("  " + p.side, p.label, "on " + d.plain(p.interval), status)
    con.print(table)
    for c, lip in ((fm.forward, "Lip(X_{0,1})"), (fm.reverse, "Lip(X_{1,0})")):
        if c.finite:
            extra = f" = {float(sympy.N(c.value)):.6g}" if c.value.is_number and not c.numeric else ""
            how = c.kind if c.method == c.kind else f"{c.kind}, {c.method}"
            if c.kind == "certified" and c.enclosure is not None:
                how += f", in [{float(c.enclosure[0]):.15g}, {float(c.enclosure[1]):.15g}]"
            if c.conditional_on:
                known = c.condition not in (sympy.true, sympy.false)
                how += (f"; holds if the flow is {c.conditional_on}, i.e. when {d.plain(c.condition)}" if known
                        else f"; holds if the flow is {c.conditional_on} on [0, 1], which is not established")
            con.print(f"  {lip} <= {d.plain(c.value)}{extra}  ({how})")
        else:
            con.print(d.wrapped(con, f"  {lip} unbounded ", f"({c.reason or c.method})"), soft_wrap=True)
    wp = fm.well_posed
    cond = f" if {d.plain(wp.condition)}" if wp is not None and wp.condition is not sympy.true else ""
    con.print(f"  well posed on {d.plain(fm.interval)}{cond}")
    if src is not None and src.b0 != 0:
        con.print(f"  b_0 = {d.plain(src.b0)} > 0: starting from N(0, a_0^2 I) costs W2 <= "
                  f"{d.plain(src.gaussian_start_cost)} at t = 0 and <= {d.plain(src.pushed_gaussian_start)} at t = 1 "
                  "(source stability)")
    con.print("  lemmas: " + ", ".join(b.lemmas))
    notes = list(b.notes) + [n for n in fm.notes if n not in b.notes]
    for n in notes if verbose else notes[:3]:  # whole sentences, wrapped (issue 21: they were cut with "…")
        con.print(d.wrapped(con, "  note: ", n), soft_wrap=True)
    if not verbose:
        extra = len(notes) - 3
        more = f"{extra} more note{'s' if extra > 1 else ''}, " if extra > 0 else ""
        con.print(f"  ({more}the formulas in t: --verbose)")
