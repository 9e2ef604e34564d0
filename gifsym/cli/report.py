"""``gifsym report``: a standalone LaTeX document of every result that applies to a flow."""

from __future__ import annotations

import shlex

import click

from gifsym.cli._common import emit_json, parse_times, resolve_schedule, schedule_options, target_option
from gifsym.errors import GifsymError


@click.command("report")
@schedule_options
@target_option
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    metavar="FILE.tex",
    help="The LaTeX file to write (atomically).",
)
@click.option(
    "--pdf", is_flag=True, help="Also compile it with pdflatex into FILE.pdf (no undefined references)."
)
@click.option(
    "--at", "at", metavar="T1,T2,...", help="Times of the bounds table (default 0,0.25,0.5,0.75,0.9,0.99)."
)
@click.option(
    "--verify",
    "run_verify",
    is_flag=True,
    help="Run the numerical checks (JAX) and include them with a figure of bound vs observed worst case.",
)
@click.option("--samples", type=click.IntRange(min=1), default=None, help="Samples for --verify.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --verify.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the written paths and lemmas as one JSON object."
)
def report(
    schedule_spec, a_expr, b_expr, params, target_spec, output, pdf, at, run_verify, samples, seed, as_json
) -> None:
    """Write a standalone LaTeX report of every result that applies to the flow, in dependency order.

    The document holds the setting, the schedule in its own quantities and its assumption report, the
    target's classes, each applicable lemma (stated for a general schedule, then instantiated for this one
    in compact form, with \\label, assumptions, references and a \\uses{...} line for leanblueprint), a
    table of bounds at chosen times, the flow-map constants and a bibliography. Long formulas are split
    over lines, never shrunk.

    Example: gifsym report --schedule vp --target slc:kappa=2 -o report.tex --pdf
    """
    from gifsym.gif import GIF
    from gifsym.output.report import DEFAULT_TIMES, write_report
    from gifsym.symbolic.target import target

    times = parse_times(at) or DEFAULT_TIMES
    flow = GIF(resolve_schedule(schedule_spec, a_expr, b_expr, params), target(target_spec))
    # Rebuilt from the parsed inputs rather than sys.argv, so it is canonical and works under CliRunner.
    command = _command_line(flow, output, times, pdf, run_verify)
    from gifsym.cli._display import working

    what = "deriving every result" + (", running the checks" if run_verify else "") + (
        ", compiling with pdflatex" if pdf else "")
    with working(what):
        written = write_report(
            flow, output, at=times, pdf=pdf, verify=run_verify, samples=samples, seed=seed, command=command
        )
    if as_json:
        emit_json(
            {"tex": written.tex, "pdf": written.pdf, "figure": written.figure, "lemmas": list(written.lemmas)}
        )
        return
    click.echo(
        f"wrote {written.tex}"
        + (f" and {written.pdf}" if written.pdf else "")
        + (f" (figure {written.figure})" if written.figure else "")
    )


def _command_line(flow, output: str, times, pdf: bool, run_verify: bool) -> str:
    """The command that rebuilds the report (shown in the document)."""
    s = flow.schedule
    if s.name == "custom":
        a, b = s.source or (str(s.a), str(s.b))
        sched = f"--a {shlex.quote(a)} --b {shlex.quote(b)}"
    else:
        sched = f"--schedule {shlex.quote(s.spec)}"
    parts = [
        "gifsym report",
        sched,
        f"--target {shlex.quote(flow.target.spec)}",
        f"-o {shlex.quote(output)}",
        "--at " + ",".join(f"{x:g}" for x in times),
    ]
    if pdf:
        parts.append("--pdf")
    if run_verify:
        parts.append("--verify")
    return " ".join(parts)
