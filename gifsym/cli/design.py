"""``gifsym design``: the schedule that minimises a Lipschitz objective (or the sampler bound) for a target."""

from __future__ import annotations

import click

from gifsym.cli._common import emit_json, exclusive, interruptible, target_option


@click.command("design")
@target_option
@click.option("--objective", type=click.Choice(["lipschitz", "lipschitz-sq", "steps"]), default="lipschitz",
              show_default=True, help="sup θ_t; ∫ E||∇v_t||_F² dt (exact targets); the plan's sampler bound.")
@click.option("--base", default="linear", show_default=True, metavar="SPEC",
              help="Schedule the model was trained under: the transfer (time change and scale) starts from it.")
@click.option("--sampler", type=click.Choice(["euler", "heun", "midpoint", "rk4"]), default=None,
              help="Sampler (objective steps).")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Steps of the exported grid / the plan.")
@click.option("--tol", type=click.FloatRange(min=0, min_open=True), default=None,
              help="W2 tolerance (objective steps: minimise N).")
@click.option("--json", "as_json", is_flag=True, help="Print the design as one JSON object.")
@click.option("--latex", is_flag=True, help="Print a_t, b_t and the objective in LaTeX.")
@click.option("--plot", "plot_file", metavar="FILE", default=None,
              help="Write θ_t of the design, linear and trigonometric (.png, .svg or .pdf).")
def design_cmd(target_spec, objective, base, sampler, steps, tol, as_json, latex, plot_file) -> None:
    """Design the schedule for a target: the time change of the variance-preserving path that makes θ_t
    (objective lipschitz) or E||∇v_t||_F² (lipschitz-sq) constant, in closed form where SymPy finds one, with
    its assumptions proved, the same objective for the catalogue's schedules, and the transfer from --base.
    """
    from gifsym.decisions.design import design
    from gifsym.symbolic.target import target

    exclusive(json=as_json, latex=latex)
    if plot_file is not None:
        from gifsym.output.plot import check_format

        check_format(plot_file)
    d = interruptible(design, target(target_spec), objective=objective, base=base, sampler=sampler, steps=steps,
                      tol=tol)
    if plot_file is not None:
        from gifsym.output.plot import plot_bounds
        from gifsym.symbolic.schedule import schedule

        path = plot_bounds([d.schedule, schedule("linear"), schedule("trigonometric")], d.target, plot_file,
                           title=f"designed ({objective}) vs linear and trigonometric: {d.target.spec}")
        if not as_json:
            click.echo(f"wrote {path}")
    if as_json:
        emit_json(d.to_dict())
        return
    if latex:
        click.echo(d.to_latex())
        return
    value = d.objective_value
    shown = f"{value} = {float(value):.6g} (exact)" if d.kind == "exact" else f"{float(value):.6g} ({d.kind})"
    from gifsym.cli._display import console, wrapped

    con = console()

    def line(label: str, text: str) -> None:  # whole sentences, wrapped at the terminal's width
        click.echo(wrapped(con, label, text))

    click.echo(f"design for {d.target.spec}, objective {objective}")
    line("  a_t = ", str(d.schedule.a))
    line("  b_t = ", str(d.schedule.b))
    line(f"  {objective} = ", f"{shown}; family optimum {float(d.optimum):.6g}")
    for spec, v in d.baselines:
        click.echo(f"  {spec:>15}: {v:.6g}")
    line("  assumptions: ", ", ".join(f"{k} {v.status}" for k, v in d.verdicts))
    line(f"  transfer from {d.base.spec}: ", d.transfer.method)
    line("  grid (design time): ", ", ".join(f"{x:.4g}" for x in d.grid))
    line(f"  grid ({d.base.spec} time): ", ", ".join(f"{x:.4g}" for x in d.base_grid))
    line("  how: ", d.method)
