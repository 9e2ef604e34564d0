"""``gifsym schedules``, ``gifsym schedule`` and ``gifsym velocity``."""

from __future__ import annotations

import contextlib

import click

from gifsym.cli._common import (
    Readable,
    emit_json,
    exclusive,
    expr_json,
    sympy_text,
    require_assumptions,
    resolve_schedule,
    schedule_options,
    target_option,
)


def _peer_notes(s) -> dict:
    """For a peer schedule its description, and for a σ_min path (a_1 > 0) the GIF it is equivalent to."""
    from gifsym.errors import GifsymError
    from gifsym.symbolic.schedule import PEER_CATALOGUE

    out: dict = {}
    if s.name in PEER_CATALOGUE:
        out["description"] = PEER_CATALOGUE[s.name].description
    if s.check().status("S-end") == "violated":
        from gifsym.symbolic.convert.sigma_min import sigma_min_path

        try:
            path = sigma_min_path(s)
        except GifsymError as e:
            out["sigma_min_path"] = {"note": str(e)}
        else:
            if path is not None:
                out["sigma_min_path"] = {"sigma_min": expr_json(path.sigma_min), "a": expr_json(path.schedule.a),
                                         "b": expr_json(path.schedule.b), "interval": expr_json(path.interval),
                                         "note": path.describe()}
    return out


def schedule_json(s) -> dict:
    """The JSON object of one schedule (interface.md): name, a, b, da, db, snr, params, assumptions (and, for a
    peer's schedule or a σ_min path, ``description`` / ``sigma_min_path``); and ``compact``: a, b, da, db,
    snr and log_snr in the schedule's quantities, with ``definitions``."""
    from gifsym.symbolic.compact import SCHEDULE_ROWS, schedule_forms

    report = s.check()
    forms = schedule_forms(s)
    symbols, meanings = dict(forms.symbols), dict(forms.meanings)
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
        **_peer_notes(s),
        "compact": {key: {"sympy": sympy_text(e), "latex": forms.expr_latex(e)}
                    for (key, _, _), e in zip(SCHEDULE_ROWS, forms.expr)},
        "definitions": [{"name": d.name, "sympy": sympy_text(d.sympy), "latex": d.latex,
                         "symbol": symbols.get(d.name, d.name), "meaning": meanings.get(d.name, "")}
                        for d in forms.definitions],
    }


def _print_schedule_latex(s) -> None:
    from gifsym.output.latex import latex_expr

    click.echo(f"schedule {s.spec}")
    notes = _peer_notes(s)
    if "description" in notes:
        click.echo(f"  ({notes['description']})")
    for k, v in s.params:
        if v.free_symbols:
            click.echo(f"  parameter {k} is symbolic (positive); give it a value with --param {k}=VALUE")
    for label, e in (("a_t", s.a), ("b_t", s.b), ("da/dt", s.da), ("db/dt", s.db), ("SNR b/a", s.snr)):
        click.echo(f"  {label:8} = {latex_expr(e)}")
    report = s.check()
    for k, v in report.items + report.consequences:
        click.echo(f"  {k:13} {v.status:8} {v.reason}")
    if "sigma_min_path" in notes:
        click.echo(f"  sigma_min path: {notes['sigma_min_path']['note']}")


def _print_schedule(s, *, verbose: bool) -> None:
    from rich.table import Table

    from gifsym.cli import _display as d
    from gifsym.symbolic.compact import SCHEDULE_ROWS, schedule_forms
    from gifsym.symbolic.schedule import catalogue_entry

    con = d.console()
    entry = catalogue_entry(s.name)
    d.heading(con, f"schedule {s.spec}" + (f"  ({entry.description})" if entry else ""))
    forms = schedule_forms(s)
    d.formulas(con, [(label, e) for (_, _, label), e in zip(SCHEDULE_ROWS, forms.expr)], forms)
    d.where(con, forms)
    if verbose:
        con.print("  in t:")
        d.formulas(con, [("a_t", s.a), ("b_t", s.b), ("da/dt", s.da), ("db/dt", s.db), ("SNR b/a", s.snr)],
                   indent=4)
    times = (0.0, 0.25, 0.5, 0.75, 1.0)
    rows = []
    for x in times:
        rows.append([x] + [_value_at(e, x) for e in (s.a, s.b, s.da, s.db, s.snr)])
    con.print()
    con.print(d.values_table("  values", ["t", "a_t", "b_t", "da/dt", "db/dt", "SNR"], rows))
    con.print()
    report = s.check()
    table = Table(box=None, pad_edge=False, padding=(0, 1), show_header=False, title="  assumptions",
                  title_justify="left")
    table.add_column("id")
    table.add_column("mark")
    table.add_column("status")
    table.add_column("reason", no_wrap=True, overflow="ellipsis")
    room = max(40, con.width - 32)  # one line each: id, mark and status take about 30 columns
    for k, v in report.items + report.consequences:
        table.add_row("  " + k, d.mark(v.status), v.status, report.summary(k, limit=room))
    con.print(table)
    if verbose:
        con.print()
        con.print("  proofs:")
        for k, v in report.items + report.consequences:
            con.print(f"    {k}: {v.status}")
            for label, part in report.parts_of(k) or ((k, v),):
                con.print(f"      {label}: {part.status}: {part.reason}")
    else:
        con.print("  (the proof of each assumption: --verbose)")
    path = _peer_notes(s).get("sigma_min_path")
    if path is not None:
        con.print(f"  sigma_min path: {path['note']}")


def _value_at(e, x: float):
    """The value at t = x (a one-sided limit at the ends where substitution is undefined)."""
    import sympy

    from gifsym.symbolic.schedule import t
    from gifsym.theory.integrals import endpoint_value

    point = sympy.Rational(repr(x))
    v = e.xreplace({t: point})
    if v.is_number and v.is_finite:
        return float(v)
    if e.free_symbols - {t}:
        return v
    lim = endpoint_value(e, point, "-" if x >= 1 else "+").value
    if lim is sympy.oo or lim == -sympy.oo:
        return float(lim)
    return float(lim) if lim.is_number and lim.is_finite else float("nan")


@click.command("schedules")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.option("--latex", is_flag=True, help="Print expressions as LaTeX.")
@click.option("--peers", is_flag=True, help="List the peer libraries' schedules (fm-*, sd3, edm, ddpm, cfm, ...) "
              "instead of the catalogue.")
@click.option("--verbose", "-v", is_flag=True, help="Also print every assumption's proof.")
def schedules(as_json: bool, latex: bool, peers: bool, verbose: bool) -> None:
    """The catalogue: a_t, b_t and each assumption's status, as one table."""
    exclusive(json=as_json, latex=latex)
    from gifsym.cli._display import working
    from gifsym.symbolic.schedule import PEER_CATALOGUE, catalogue, schedule

    items = [schedule(n) for n in PEER_CATALOGUE] if peers else catalogue()
    with working("checking the assumptions of the catalogue", enabled=not as_json):
        for s in items:
            s.check()
    if as_json:
        emit_json([schedule_json(s) for s in items])
        return
    if latex:
        for s in items:
            _print_schedule_latex(s)
            click.echo()
        return
    if verbose:
        for s in items:
            _print_schedule(s, verbose=True)
            click.echo()
        return
    _schedules_table(items)


def _schedules_table(items) -> None:
    from rich.table import Table

    from gifsym.cli import _display as d
    from gifsym.symbolic.compact import schedule_forms
    from gifsym.symbolic.schedule import SCHEDULE_ASSUMPTIONS

    con = d.console()
    table = Table(title="gifsym schedules: X_t = a_t Z + b_t X_1 (noise at t = 0, data at t = 1)",
                  title_justify="left", header_style="bold")
    table.add_column("schedule")
    table.add_column("a_t")
    table.add_column("b_t")
    for a in SCHEDULE_ASSUMPTIONS:
        table.add_column(a, justify="center")
    legend: dict[tuple[str, str], list[str]] = {}
    for s in items:
        forms = schedule_forms(s)
        a, b = forms.expr[:2]
        report = s.check()
        table.add_row(s.name, d.plain(a, forms.symbols), d.plain(b, forms.symbols),
                      *(d.mark(report.status(k)) for k in SCHEDULE_ASSUMPTIONS))
        names = dict(forms.symbols)
        for df in forms.definitions:
            key = (d.plain_name(names.get(df.name, df.name)), d.plain(df.sympy, forms.symbols))
            legend.setdefault(key, []).append(s.name)
    con.print(table)
    if legend:
        con.print("where")
        for (name, text), used in legend.items():
            con.print(f"  {name} = {text}   ({', '.join(used)})")
    con.print("✓ holds, ✗ violated, ? unknown.  One schedule in full: gifsym schedule NAME [--verbose]")


@click.command("schedule")
@click.argument("spec", required=False)
@click.option("--a", "a_expr", metavar="EXPR", help="Custom a_t (with --b).")
@click.option("--b", "b_expr", metavar="EXPR", help="Custom b_t (with --a).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Parameter of a custom schedule (repeatable); NAME alone keeps it symbolic.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--latex", is_flag=True, help="Print expressions as LaTeX.")
@click.option("--verbose", "-v", is_flag=True, help="Also print the formulas in t and every proof step.")
def schedule_cmd(spec, a_expr, b_expr, params, as_json, latex, verbose) -> None:
    """One schedule: a, b, their derivatives, SNR and the assumption report.

    SPEC is a catalogue spec (vp:beta_min=0.1,beta_max=20); or give --a EXPR --b EXPR.
    """
    from gifsym.budget import drawing_on
    from gifsym.cli._display import working
    from gifsym.symbolic.compact import schedule_forms
    from gifsym.symbolic.schedule import proof_allowance

    exclusive(json=as_json, latex=latex)
    s = resolve_schedule(spec, a_expr, b_expr, params)
    pool = proof_allowance(s)
    # A custom schedule's proofs, the notes' included, share one allowance (the command's total work on it).
    with drawing_on(pool) if pool is not None else contextlib.nullcontext():
        with working("checking the assumptions", enabled=not as_json):
            s.check()
            schedule_forms(s)
        if as_json:
            emit_json(schedule_json(s))
        elif latex:
            _print_schedule_latex(s)
        else:
            _print_schedule(s, verbose=verbose)


def velocity_objects(flow) -> dict:
    """The expressions ``velocity`` prints: velocity, score, Jacobian (and, for a class of targets, the
    posterior mean and covariance it is written in)."""
    objs = {"velocity": flow.velocity(), "score": flow.score(), "jacobian": flow.jacobian()}
    if not flow.target.is_exact:
        objs["posterior_mean"] = flow.posterior_mean()
        objs["posterior_cov"] = flow.posterior_cov()
    return objs


def velocity_json(flow, objs: dict | None = None) -> dict:
    """The JSON object of ``velocity --json``: each expression in full and compact form, with the
    ``definitions`` of the quantities."""
    objs = velocity_objects(flow) if objs is None else objs
    readable = Readable(flow.schedule, list(objs.values()))
    return {"schedule": flow.schedule.spec, "target": flow.target.spec, "exact": flow.target.is_exact,
            **{k: expr_json(v, readable) for k, v in objs.items()}, "definitions": readable.definitions()}


@click.command("velocity")
@schedule_options
@target_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--latex", is_flag=True, help="Print LaTeX.")
@click.option("--verbose", "-v", is_flag=True, help="Also print the formulas in t.")
def velocity(schedule_spec, a_expr, b_expr, params, target_spec, as_json, latex, verbose) -> None:
    """The exact velocity field, score and Jacobian of the flow (general denoiser form for a target class)."""
    from gifsym.gif import GIF
    from gifsym.output.latex import latex_expr
    from gifsym.symbolic.target import target

    exclusive(json=as_json, latex=latex)
    s = resolve_schedule(schedule_spec, a_expr, b_expr, params)
    flow = GIF(s, target(target_spec))
    from gifsym.cli._display import working

    with working("deriving the velocity field", enabled=not as_json):
        require_assumptions(flow, ("S-end", "S-pos"), "the velocity field (velocity-identity)")
        objs = velocity_objects(flow)
        if not (as_json or latex):
            from gifsym.symbolic.compact import compact_many

            compact_many(tuple(objs.values()), s)
    if as_json:
        emit_json(velocity_json(flow, objs))
        return
    if latex:
        click.echo(f"flow: schedule {s.spec}, target {flow.target.spec}")
        if not flow.target.is_exact:
            click.echo("  (a class of targets: m = E[X_1 | X_t = x], C = Cov(X_1 | X_t = x))")
        for k, v in objs.items():
            click.echo(f"  {k} = {latex_expr(v)}")
        return
    _print_velocity(flow, objs, verbose=verbose)


def _print_velocity(flow, objs: dict, *, verbose: bool) -> None:
    from gifsym.cli import _display as d
    from gifsym.symbolic.compact import compact_many

    con = d.console()
    s = flow.schedule
    d.heading(con, f"flow: schedule {s.spec}, target {flow.target.spec}")
    if not flow.target.is_exact:
        con.print("  a class of targets: m = E[X_1 | X_t = x], C = Cov(X_1 | X_t = x)")
    forms = compact_many(list(objs.values()), s)
    d.formulas(con, list(zip(objs, forms.expr)), forms)
    d.where(con, forms)
    if verbose:
        con.print("  in t:")
        d.formulas(con, list(objs.items()), indent=4)
    c = flow.coefficients
    times = (0.0, 0.25, 0.5, 0.75, 0.9, 0.99)
    rows = [(x, *(_value_at(e, x) for e in (c.x, c.m, c.C))) for x in times]
    con.print()
    con.print(d.values_table("  coefficients of v = c_x x + c_m m and of the key identity "
                             "grad v = c_x I + c_C C (any target)", ["t", "c_x", "c_m", "c_C"], rows))
    if not verbose:
        con.print("  (the formulas in t: --verbose)")
