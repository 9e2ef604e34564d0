"""``gifsym verify``: numerical checks of the derivations on a real flow (exit 1 when one fails)."""

from __future__ import annotations

import sys

import click

from gifsym.cli._common import (
    emit_json,
    interruptible,
    require_assumptions,
    resolve_schedule,
    distributed_option,
    schedule_options,
    start_distributed,
    target_option,
)
from gifsym.cli._display import console, steps, verify_report


@click.command("verify")
@schedule_options
@target_option
@click.option("--samples", type=click.IntRange(min=20), default=1000, show_default=True,
              help="Particles per simulation and samples per time in the bounds check.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="PRNG seed.")
@click.option("--check", "checks", multiple=True, metavar="NAME",
              help="Run only this check (repeatable): velocity, jacobian, bounds, flow-map, transport, "
                   "auto-encoding, cycle-consistency, velocity-stability.")
@click.option("--dim", type=click.IntRange(min=1), default=1, show_default=True,
              help="Dimension of the concrete member of a class target.")
@click.option("--times", type=click.IntRange(min=2), default=11, show_default=True, help="Times in the bounds grid.")
@click.option("--rtol", type=click.FloatRange(min=0, min_open=True), default=1e-8, show_default=True)
@click.option("--atol", type=click.FloatRange(min=0, min_open=True), default=1e-10, show_default=True)
@click.option("--eps", type=click.FloatRange(0, 0.5, min_open=True, max_open=True), default=None,
              help="Stop at 1 - eps where the field is not finite at t = 1 [default: 1e-3].")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@distributed_option
def verify(schedule_spec, a_expr, b_expr, params, target_spec, samples, seed, checks, dim, times, rtol, atol, eps,
           as_json, distributed) -> None:
    """Check the theory on the flow: symbolic vs JAX velocity and Jacobian, bound validity and tightness,
    flow-map constants, transport, auto-encoding and cycle consistency, velocity stability.

    A class target (slc:kappa=1, ball:R=1, ...) is checked on a concrete member of the class (a quadrature
    oracle). Exit status 0 when every check holds, 1 when one fails.
    """
    from gifsym.errors import GifsymError

    start_distributed(distributed)  # before anything else touches JAX
    from gifsym.gif import GIF
    from gifsym.numerics.verify import CHECKS
    from gifsym.numerics.verify import verify as run_verify
    from gifsym.symbolic.target import target

    for c in checks:
        if c not in CHECKS:
            raise GifsymError(f"--check {c!r} is not a check; accepted: {', '.join(CHECKS)}")
    gif = GIF(resolve_schedule(schedule_spec, a_expr, b_expr, params), target(target_spec))
    require_assumptions(gif, ("S-end", "S-pos", "S-mono", "S-smooth"), "verifying the flow")
    with steps("verifying") as update:
        report = interruptible(run_verify, gif, samples=samples, seed=seed, checks=checks or None, dim=dim,
                               times=times, rtol=rtol, atol=atol, eps=eps, progress=update)
    if as_json:
        emit_json(report.to_dict())
    else:
        verify_report(console(), report)
    if not report.passed:
        names = ", ".join(c.name for c in report.failures())
        click.echo(f"verify: {len(report.failures())} check(s) failed: {names}", err=True)
        # sys.exit, not click's Exit: gifsym.cli.main runs click in non-standalone mode, where a click Exit
        # is returned as a value and would be lost.
        sys.exit(1)
