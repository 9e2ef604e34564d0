"""``gifsym plot``: bounds against t, bound vs observed worst case, sample paths, and the lemma graph.

Each sub-command writes PNG, SVG or PDF by the extension of ``-o`` (atomically).
"""

from __future__ import annotations

import click

from gifsym.cli._common import require_assumptions, resolve_schedule, schedule_options, target_option
from gifsym.errors import GifsymError
from gifsym.io import read_json


def split_schedules(text: str) -> list[str]:
    """Split ``--schedule linear,vp:beta_min=0.1,beta_max=20,ve`` into specs.

    Parameters also use commas, so a piece with ``=`` and no ``:`` continues the previous spec.

    Example:
        >>> split_schedules("linear,vp:beta_min=0.1,beta_max=20,ve")
        ['linear', 'vp:beta_min=0.1,beta_max=20', 've']
    """
    specs: list[str] = []
    for piece in (p.strip() for p in text.split(",")):
        if not piece:
            continue
        if specs and "=" in piece and ":" not in piece:
            specs[-1] += "," + piece
        else:
            specs.append(piece)
    return specs


def _output_option(help_text: str):
    return click.option("-o", "--output", "output", required=True, metavar="FILE", help=help_text)


@click.group("plot")
def plot() -> None:
    """Figures: bounds against t, bound vs observed worst case, sample paths, the lemma graph.

    The format (PNG, SVG or PDF) follows the extension of -o.
    """


@plot.command("bounds")
@schedule_options
@target_option
@_output_option("Figure file: .png, .svg or .pdf.")
@click.option(
    "--points", type=click.IntRange(min=10), default=400, show_default=True, help="Times per curve."
)
@click.option(
    "--eps",
    type=click.FloatRange(min=0, max=0.5, min_open=True),
    default=1e-3,
    show_default=True,
    help="Stop the time axis at 1 - eps (most bounds blow up at t = 1).",
)
def bounds_cmd(schedule_spec, a_expr, b_expr, params, target_spec, output, points, eps) -> None:
    """θ_t and the two-sided Jacobian bounds against t; several schedules on one figure.

    --schedule takes a comma-separated list (linear,trigonometric,vp:beta_min=0.1,beta_max=20); --a/--b adds
    a custom schedule. Log scale where the values blow up.
    """
    from gifsym.output.plot import plot_bounds
    from gifsym.symbolic.target import target

    schedules = []
    if schedule_spec:
        schedules += [resolve_schedule(s, None, None, ()) for s in split_schedules(schedule_spec)]
    if a_expr is not None or b_expr is not None:
        schedules.append(resolve_schedule(None, a_expr, b_expr, params))
    if not schedules:
        raise GifsymError("give --schedule S1,S2,... and/or --a EXPR --b EXPR")
    path = plot_bounds(schedules, target(target_spec), output, points=points, eps=eps)
    click.echo(f"wrote {path}")


@plot.command("verify")
@schedule_options
@click.option("--target", "-T", "target_spec", metavar="SPEC", help="Target spec (as for gifsym verify).")
@_output_option("Figure file: .png, .svg or .pdf.")
@click.option(
    "--from",
    "from_json",
    metavar="REPORT.json",
    type=click.Path(dir_okay=False),
    help="Plot a saved `gifsym verify --json` report instead of running the checks.",
)
@click.option("--samples", type=click.IntRange(min=1), default=None, help="Samples for the verify run.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the verify run.")
def verify_cmd(schedule_spec, a_expr, b_expr, params, target_spec, output, from_json, samples, seed) -> None:
    """Bound against observed worst case per time, from a verify run (run here, or --from a JSON report)."""
    from gifsym.output.plot import plot_verify

    if from_json is not None:
        report = read_json(from_json, what="a report of `gifsym verify --json` (--from)")
    else:
        if target_spec is None:
            raise GifsymError("give --schedule S --target T (to run the checks) or --from REPORT.json")
        from gifsym.gif import GIF
        from gifsym.numerics.verify import verify
        from gifsym.symbolic.target import target

        flow = GIF(resolve_schedule(schedule_spec, a_expr, b_expr, params), target(target_spec))
        require_assumptions(flow, ("S-end", "S-pos", "S-mono", "S-smooth"), "verifying the flow")
        kwargs = {"seed": seed} | ({"samples": samples} if samples is not None else {})
        report = verify(flow, **kwargs)
    click.echo(f"wrote {plot_verify(report, output)}")


@plot.command("trajectories")
@schedule_options
@target_option
@_output_option("Figure file: .png, .svg or .pdf.")
@click.option("-n", "n", type=click.IntRange(min=1), default=64, show_default=True, help="Number of paths.")
@click.option("--seed", type=int, default=0, show_default=True, help="PRNG seed of the source samples.")
@click.option("--reverse", is_flag=True, help="Integrate data -> noise instead of noise -> data.")
def trajectories_cmd(schedule_spec, a_expr, b_expr, params, target_spec, output, n, seed, reverse) -> None:
    """Sample paths of the flow: x against t in 1-D, paths in the plane in 2-D (Gaussian or GMM target)."""
    from gifsym.gif import GIF
    from gifsym.output.plot import plot_trajectories
    from gifsym.symbolic.target import target

    flow = GIF(resolve_schedule(schedule_spec, a_expr, b_expr, params), target(target_spec))
    require_assumptions(flow, ("S-end", "S-pos", "S-mono", "S-smooth"), "simulating the flow")
    click.echo(f"wrote {plot_trajectories(flow, output, n=n, seed=seed, reverse=reverse)}")


@plot.command("lemmas")
@schedule_options
@click.option(
    "--target", "-T", "target_spec", metavar="SPEC", help="Colour the graph for this flow (with --schedule)."
)
@_output_option("Picture file: .png, .svg, .pdf or .dot.")
def lemmas_cmd(schedule_spec, a_expr, b_expr, params, target_spec, output) -> None:
    """The lemma graph as a picture (Graphviz), coloured by status; optionally for one flow."""
    from gifsym.output.plot import plot_lemmas

    flow = None
    if target_spec is not None or schedule_spec is not None or a_expr is not None:
        if target_spec is None:
            raise GifsymError("--schedule needs --target to colour the graph for a flow")
        from gifsym.gif import GIF
        from gifsym.symbolic.target import target

        flow = GIF(resolve_schedule(schedule_spec, a_expr, b_expr, params), target(target_spec))
    click.echo(f"wrote {plot_lemmas(output, gif=flow)}")
