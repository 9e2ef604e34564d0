"""``gifsym bounds``: two-sided bounds on the Jacobian of the velocity, θ_t and the flow-map constants."""

from __future__ import annotations

import math
from typing import Any

import click
import sympy

from gifsym.cli._common import (
    emit_json,
    expr_json,
    exclusive,
    kinded_expr_json,
    known_json,
    resolve_schedule,
    schedule_options,
    target_option,
)
from gifsym.errors import GifsymError


def parse_times(text: str | None) -> list[float]:
    """``"0.1,0.5,1"`` -> ``[0.1, 0.5, 1.0]``; each time must be a number in [0, 1]."""
    if not text:
        return []
    from gifsym.symbolic.expr import parse_number

    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            v = parse_number(item)
        except GifsymError as e:
            raise GifsymError(f"--at: {item!r} is not a number ({e}); give times in [0, 1] like 0.1,0.5,1") from None
        if v.free_symbols or not (0 <= v <= 1):
            raise GifsymError(f"--at: time {item!r} is outside [0, 1]; give times in [0, 1] like 0.1,0.5,1")
        out.append(float(v))
    return out


def constant_json(c: Any) -> dict:
    """A flow-map constant: its value with its kind (null only for +oo: no finite bound, ``reason`` says
    why), how it was obtained, and ``conditional_on`` when the flow is not shown to exist."""
    out = known_json(c.value, c.kind, c.enclosure)
    out["method"] = c.method
    if c.reason:
        out["reason"] = c.reason
    if c.conditional_on:
        out["conditional_on"] = c.conditional_on
        if c.value.free_symbols or c.condition not in (sympy.true, sympy.false):
            out["condition"] = kinded_expr_json(c.condition)
    return out


def source_json(src: Any) -> dict | None:
    """Source stability (math.md §6): the cost of starting from N(0, a_0² I) when b_0 > 0."""
    if src is None:
        return None
    kind = src.kind
    return {"b0": known_json(src.b0), "second_moment": known_json(src.second_moment),
            "gaussian_start_cost": known_json(src.gaussian_start_cost),
            "pushed_gaussian_start": known_json(src.pushed_gaussian_start, kind, src.pushed_enclosure)}


def well_posed_json(fm: Any) -> dict:
    """Where the flow is well posed, with its condition on symbolic parameters and the other cases."""
    out = kinded_expr_json(fm.interval)
    wp = fm.well_posed
    if wp is None:
        out["reason"] = "well-posedness does not apply: " + next((n for n in fm.notes if "well posed" in n), "")
        return out
    out["reason"] = wp.reason
    if wp.condition is not sympy.true:
        out["condition"] = kinded_expr_json(wp.condition)
        out["cases"] = [{"interval": kinded_expr_json(i), "condition": kinded_expr_json(c)} for i, c in wp.cases]
    return out


def bounds_json(b: Any, fm: Any, times: list, src: Any = None) -> dict:
    """The JSON object of interface.md (plus ``pieces``, ``notes`` and details of the flow-map constants).

    Every number carries its kind (exact / certified / estimate, see :func:`known_json`); expression fields
    carry theirs too (``certified`` when they contain numerically located points).
    """

    def details(c):
        return {"as_function_of_T": kinded_expr_json(c.as_function_of_T) if c.as_function_of_T is not None
                else None, "endpoint_formula": kinded_expr_json(c.endpoint_formula)
                if c.endpoint_formula is not None else None}

    used = set(b.upper_envelope.pieces + b.lower_envelope.pieces)
    rows = []
    for row in b.values(times, exact=True):
        rows.append({k: known_json(v) for k, v in row.items()})
    return {
        "schedule": b.schedule.spec,
        "target": b.target.spec,
        "upper": kinded_expr_json(b.upper),
        "lower": kinded_expr_json(b.lower),
        "lipschitz": kinded_expr_json(b.lipschitz),
        "flow_map": {
            "forward": constant_json(fm.forward),
            "reverse": constant_json(fm.reverse),
            "well_posed": well_posed_json(fm),
            "details": {"forward": details(fm.forward), "reverse": details(fm.reverse)},
        },
        "interval": kinded_expr_json(b.interval),
        "lemmas": list(b.lemmas),
        "values": rows,
        "pieces": [{"lemma": p.lemma, "side": p.side, "params": {k: str(v) for k, v in p.params},
                    "formula": kinded_expr_json(p.formula), "interval": kinded_expr_json(p.interval),
                    "holds_when": kinded_expr_json(p.where()), "used": p in used}
                   for p in b.pieces],
        "source_stability": source_json(src),
        "notes": list(b.notes) + [n for n in fm.notes if n not in b.notes],
    }


def _show(e: Any, latex: bool) -> str:
    from gifsym.output.latex import latex_expr

    return latex_expr(e) if latex else str(e)


def _num(v: Any) -> str:
    if isinstance(v, float):
        return "inf" if v == math.inf else "-inf" if v == -math.inf else f"{v:.6g}"
    return str(v)


@click.command("bounds")
@schedule_options
@target_option
@click.option("--at", "at", metavar="T1,T2,...", help="Also evaluate the bounds at these times in [0, 1].")
@click.option("--assume", multiple=True, metavar="ID",
              help="Take an assumption as given (e.g. S-mono) when the checker could not decide it (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--latex", is_flag=True, help="Print LaTeX.")
def bounds(schedule_spec, a_expr, b_expr, params, target_spec, at, assume, as_json, latex) -> None:
    """Bounds on the Jacobian of the velocity, its Lipschitz constant θ_t and the flow-map constants.

    Prints the combined upper and lower bounds on ∇v (with the lemma and time interval of each piece),
    θ_t = max(|upper|, |lower|), where the flow is well posed, Lip(X_{0,1}) and Lip(X_{1,0}), and the lemmas
    used. --at t1,t2 adds their values at those times.
    """
    from gifsym.errors import AssumptionError
    from gifsym.gif import GIF
    from gifsym.symbolic.target import target
    from gifsym.theory import bounds as derive_bounds
    from gifsym.theory import flow_map_lipschitz
    from gifsym.theory.lemmas import ASSUMPTION_IDS
    from gifsym.theory.stability import source_stability

    exclusive(json=as_json, latex=latex)
    for a in assume:
        if a not in ASSUMPTION_IDS:
            raise GifsymError(f"--assume: unknown assumption id {a!r}; accepted: {', '.join(sorted(ASSUMPTION_IDS))}")
    times = parse_times(at)
    s = resolve_schedule(schedule_spec, a_expr, b_expr, params)
    flow = GIF(s, target(target_spec))
    # A σ_min path (a_1 > 0) is the GIF of the smoothed target: every result below is for that GIF.
    from gifsym.symbolic.convert.sigma_min import equivalent_flow

    flow, path = equivalent_flow(flow)
    b = derive_bounds(flow, assume=tuple(assume))
    fm = flow_map_lipschitz(flow, assume=tuple(assume))
    try:
        src = source_stability(flow, assume=tuple(assume))
    except AssumptionError:  # no forward constant: nothing to say about the pushed-forward source
        src = None
    if as_json:
        out = bounds_json(b, fm, times, src)
        if path is not None:
            out["sigma_min_path"] = {"schedule": s.spec, "sigma_min": known_json(path.sigma_min),
                                     "equivalent_schedule": {"a": expr_json(path.schedule.a),
                                                             "b": expr_json(path.schedule.b)},
                                     "smoothed_target": flow.target.spec, "interval": expr_json(path.interval),
                                     "time_change": expr_json(path.time_change),
                                     "identity": path.identity.reason, "note": path.describe()}
        emit_json(out)
        return
    if latex:
        click.echo(b.to_latex())
        click.echo(fm.to_latex())
        return
    click.echo(f"flow: schedule {s.spec}, target {flow.target.spec}")
    if path is not None:
        click.echo(f"  sigma_min path: {path.describe()}; the results below are for that GIF")
    click.echo(f"  upper    u_t = {_show(b.upper, False)}")
    click.echo(f"  lower    l_t = {_show(b.lower, False)}")
    click.echo(f"  theta_t      = {_show(b.lipschitz, False)}")
    click.echo(f"  interval     : {b.interval}")
    click.echo("  pieces:")
    used = set(b.upper_envelope.pieces + b.lower_envelope.pieces)
    for p in b.pieces:
        mark = "" if p in used else "  (dominated, not used)"
        click.echo(f"    {p.side:5} {p.label:28} on {p.interval}: {p.formula}{mark}")
    for name, c, lip in (("forward", fm.forward, "Lip(X_{0,1})"), ("reverse", fm.reverse, "Lip(X_{1,0})")):
        if c.finite:
            extra = f" = {float(sympy.N(c.value)):.6g}" if c.value.is_number and not c.numeric else ""
            how = c.kind if c.method == c.kind else f"{c.kind}, {c.method}"
            if c.kind == "certified" and c.enclosure is not None:
                how += f", in [{float(c.enclosure[0]):.15g}, {float(c.enclosure[1]):.15g}]"
            if c.conditional_on:
                known = c.condition not in (sympy.true, sympy.false)
                how += (f"; holds if the flow is {c.conditional_on}, i.e. when {c.condition}" if known else
                        f"; holds if the flow is {c.conditional_on} on [0, 1], which is not established")
            click.echo(f"  {lip} <= {c.value}{extra}  ({how})")
        else:
            click.echo(f"  {lip} unbounded ({c.reason or c.method})")
    wp = fm.well_posed
    cond = f" if {wp.condition}" if wp is not None and wp.condition is not sympy.true else ""
    click.echo(f"  well posed on {fm.interval}{cond}")
    if src is not None and src.b0 != 0:
        click.echo(f"  b_0 = {src.b0} > 0: starting from N(0, a_0^2 I) costs W2 <= {src.gaussian_start_cost} "
                   f"at t = 0 and <= {src.pushed_gaussian_start} at t = 1 (source stability)")
    if times:
        click.echo("  values:")
        click.echo(f"    {'t':>8} {'lower':>14} {'upper':>14} {'theta':>14}")
        for row in b.values(times):
            click.echo(f"    {row['t']:>8.4g} {_num(row['lower']):>14} {_num(row['upper']):>14} "
                       f"{_num(row['lipschitz']):>14}")
    click.echo("  lemmas: " + ", ".join(b.lemmas))
    for n in list(b.notes) + [n for n in fm.notes if n not in b.notes]:
        click.echo(f"  note: {n}")
