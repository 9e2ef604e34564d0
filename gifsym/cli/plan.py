"""``gifsym plan``: how many steps of which sampler, on which grid, with a W₂ bound (gifsym.decisions.plan)."""

from __future__ import annotations

import json
from typing import Any

import click

from gifsym.cli._common import emit_json, exclusive, resolve_schedule, schedule_options, target_option
from gifsym.errors import GifsymError


def parse_grid(text: str) -> str | list[float]:
    """A grid option: a named grid (``optimal``, ``edm:rho=7``, ``shift:3``) or comma-separated times."""
    first = text.strip()[:1]
    if not (first.isdigit() or first == "."):
        return text
    from gifsym.symbolic.expr import parse_number

    out = []
    for item in text.split(","):
        try:
            v = parse_number(item.strip())
        except GifsymError as e:
            raise GifsymError(f"--grid: {item.strip()!r} is not a number ({e})") from None
        if v.free_symbols or not v.is_real:
            raise GifsymError(f"--grid: {item.strip()!r} is not a real number")
        out.append(float(v))
    return out


def write_export(p: Any, fmt: str, path: str) -> None:
    """``diffusers``: JSON ``{"sigmas", "num_inference_steps"}``; ``flow_matching``: ``torch.save`` of
    ``{"time_grid": tensor}``. Written atomically."""
    import io

    from gifsym.io import write_atomic

    data = p.export(fmt)
    if fmt == "diffusers":
        write_atomic(path, json.dumps(data, indent=2) + "\n")
        return
    import torch

    buf = io.BytesIO()
    torch.save(data, buf)
    write_atomic(path, buf.getvalue())


@click.command("plan")
@schedule_options
@target_option
@click.option("--sampler", default="heun", show_default=True,
              type=click.Choice(["euler", "heun", "midpoint", "rk4"]), help="The one-step sampler.")
@click.option("--tol", type=float, metavar="EPS", help="W2 tolerance: the least number of steps that meets it.")
@click.option("--steps", type=int, metavar="N", help="Number of steps (the bound is reported).")
@click.option("--grid", default="optimal", show_default=True, metavar="GRID",
              help="optimal, uniform, edm[:rho=7,sigma_min=...,sigma_max=...], shift:S, or times t0,...,tN.")
@click.option("--t0", type=float, help="First time (default 0, or 1e-3 where the field is not finite at 0).")
@click.option("--t1", type=float, help="Last time (default 1, or 1 - 1e-3 where the field is not finite at 1).")
@click.option("--compare", metavar="G1,G2,...", help="Also print each of these grids' bound at the same N "
              "(named grids, e.g. uniform,edm,optimal).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--latex", is_flag=True, help="Print the certificate as a LaTeX theorem.")
@click.option("--export", "export_fmt", type=click.Choice(["diffusers", "flow_matching"]),
              help="Write the grid for a peer library to -o FILE.")
@click.option("-o", "--output", "output", metavar="FILE", help="File for --export.")
def plan(schedule_spec, a_expr, b_expr, params, target_spec, sampler, tol, steps, grid, t0, t1, compare, as_json,
         latex, export_fmt, output) -> None:
    """The number of steps and the time grid of a sampler, with a bound on W2(samples, target).

    Give exactly one of --tol and --steps. The bound (lemma sampler-error) sums each step's local error at
    exact points, carried to the end by the later steps' Lipschitz constants; for Gaussian targets the
    sampler's exact coupling error and the exact-flow fan (lemma sampler-routes) are closed forms too, and
    the smallest route is reported (kind certified, with its enclosure).
    """
    from gifsym.decisions.plan import plan as make_plan
    from gifsym.gif import GIF
    from gifsym.symbolic.target import target

    exclusive(json=as_json, latex=latex)
    if (export_fmt is None) != (output is None):
        raise GifsymError("--export and -o FILE go together")
    names = [g.strip() for g in compare.split(",") if g.strip()] if compare else []
    flow = GIF(resolve_schedule(schedule_spec, a_expr, b_expr, params), target(target_spec))
    from gifsym.cli._display import working

    with working("planning"):
        p = make_plan(flow, sampler=sampler, tol=tol, steps=steps, grid=parse_grid(grid), t0=t0, t1=t1)
        others = [(g, make_plan(flow, sampler=sampler, steps=p.steps, grid=g, t0=p.grid[0], t1=p.grid[-1]))
                  for g in names]
    if export_fmt is not None:
        write_export(p, export_fmt, output)
    if as_json:
        out = p.to_dict()
        if others:
            out["compare"] = [{"grid": g, "grid_kind": q.grid_kind, "w2_bound": q.w2_bound.to_dict()}
                              for g, q in others]
        emit_json(out)
        return
    if latex:
        click.echo(p.to_latex(), nl=False)
        return
    print_plan(p, others, output if export_fmt else None)


def print_plan(p: Any, others: list, written: str | None) -> None:
    """The terminal form: the bound and its terms, the grid, the comparison table."""
    from gifsym.cli import _display as d

    con = d.console()
    d.heading(con, f"plan: {p.sampler}, schedule {p.schedule}, target {p.target}")
    con.print(f"  steps: {p.steps} on the {p.grid_kind} grid from t0 = {p.grid[0]:g} to t1 = {p.grid[-1]:g}")
    con.print(f"  W2 <= {p.w2_bound.value:.6g}  ({p.w2_bound.kind}; discretisation "
              f"{p.terms['discretisation']:.6g} + early stopping {p.terms['early_stopping']:.6g})")
    c = p.step_size_condition
    if c is not None:
        con.print(f"  step sizes: max h|lambda| = {c.worst:.4g} {'<=' if c.holds else '>'} {c.interval:.4g} "
                  f"(the method's stability interval{'' if c.holds else '; some steps amplify errors'})")
    for cond in p.w2_bound.conditions:
        con.print(d.wrapped(con, "  assumes: ", cond), highlight=False)
    rows = [(k, p.grid[k], p.grid[k + 1] - p.grid[k], p.per_step[k]) for k in range(p.steps)]
    if len(rows) > 12:
        rows = rows[:6] + [("...", "", "", "")] + rows[-5:]
    con.print(d.values_table("  grid", ["k", "t_k", "h_k", "term"], rows))
    if others:
        con.print(d.values_table(f"  grids at N = {p.steps}", ["grid", "W2 bound", "kind"],
                                 [(g, q.w2_bound.value, q.w2_bound.kind) for g, q in others]))
    if written:
        con.print(f"  wrote {written}")
    con.print("  lemmas: " + ", ".join(p.lemmas))
