"""``gifsym schedules``, ``gifsym schedule`` and ``gifsym velocity``."""

from __future__ import annotations

import click

from gifsym.cli._common import Readable, emit_json, expr_json, resolve_schedule, schedule_options, target_option


def schedule_json(s) -> dict:
    """The JSON object of one schedule (interface.md): name, a, b, da, db, snr, params, assumptions."""
    report = s.check()
    return {
        "name": s.name,
        "spec": s.spec,
        "params": {k: expr_json(v) for k, v in s.params},
        "a": expr_json(s.a),
        "b": expr_json(s.b),
        "da": expr_json(s.da),
        "db": expr_json(s.db),
        "snr": expr_json(s.snr),
        "assumptions": report.to_dict(),
        "consequences": {k: {"status": v.status, "reason": v.reason} for k, v in report.consequences},
    }


def _print_schedule(s, *, latex: bool) -> None:
    from gifsym.output.latex import latex_expr

    show = latex_expr if latex else str
    click.echo(f"schedule {s.spec}")
    for label, e in (("a_t", s.a), ("b_t", s.b), ("da/dt", s.da), ("db/dt", s.db), ("SNR b/a", s.snr)):
        click.echo(f"  {label:8} = {show(e)}")
    report = s.check()
    for k, v in report.items + report.consequences:
        click.echo(f"  {k:13} {v.status:8} {v.reason}")


@click.command("schedules")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.option("--latex", is_flag=True, help="Print expressions as LaTeX.")
def schedules(as_json: bool, latex: bool) -> None:
    """The catalogue: a_t, b_t and each assumption's status."""
    from gifsym.symbolic.schedule import catalogue

    items = catalogue()
    if as_json:
        emit_json([schedule_json(s) for s in items])
        return
    for s in items:
        _print_schedule(s, latex=latex)
        click.echo()


@click.command("schedule")
@click.argument("spec", required=False)
@click.option("--a", "a_expr", metavar="EXPR", help="Custom a_t (with --b).")
@click.option("--b", "b_expr", metavar="EXPR", help="Custom b_t (with --a).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Parameter of a custom schedule (repeatable); NAME alone keeps it symbolic.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--latex", is_flag=True, help="Print expressions as LaTeX.")
def schedule_cmd(spec, a_expr, b_expr, params, as_json, latex) -> None:
    """One schedule: a, b, their derivatives, SNR and the assumption report.

    SPEC is a catalogue spec (vp:beta_min=0.1,beta_max=20); or give --a EXPR --b EXPR.
    """
    s = resolve_schedule(spec, a_expr, b_expr, params)
    if as_json:
        emit_json(schedule_json(s))
    else:
        _print_schedule(s, latex=latex)


@click.command("velocity")
@schedule_options
@target_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--latex", is_flag=True, help="Print LaTeX.")
def velocity(schedule_spec, a_expr, b_expr, params, target_spec, as_json, latex) -> None:
    """The exact velocity field, score and Jacobian of the flow (general denoiser form for a target class)."""
    from gifsym.gif import GIF
    from gifsym.output.latex import latex_expr
    from gifsym.symbolic.target import target

    s = resolve_schedule(schedule_spec, a_expr, b_expr, params)
    flow = GIF(s, target(target_spec))
    objs = {"velocity": flow.velocity(), "score": flow.score(), "jacobian": flow.jacobian()}
    if not flow.target.is_exact:
        objs["posterior_mean"] = flow.posterior_mean()
        objs["posterior_cov"] = flow.posterior_cov()
    if as_json:
        readable = Readable(s, list(objs.values()))
        emit_json({"schedule": s.spec, "target": flow.target.spec, "exact": flow.target.is_exact,
                   **{k: expr_json(v, readable) for k, v in objs.items()},
                   "definitions": readable.definitions()})
        return
    show = latex_expr if latex else str
    click.echo(f"flow: schedule {s.spec}, target {flow.target.spec}")
    if not flow.target.is_exact:
        click.echo("  (a class of targets: m = E[X_1 | X_t = x], C = Cov(X_1 | X_t = x))")
    for k, v in objs.items():
        click.echo(f"  {k} = {show(v)}")
