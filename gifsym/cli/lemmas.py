"""``gifsym lemmas``: the lemma graph (list, show, requires, graph)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click
import sympy

from gifsym.cli._common import emit_json, expr_json


def formula_json(obj: Any) -> Any:
    """A derived formula as JSON: SymPy objects as ``{"sympy", "latex"}``, containers recursively, results
    with ``to_latex()`` as ``{"text", "latex"}``."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (sympy.Basic, sympy.MatrixBase)):
        return expr_json(obj)
    if isinstance(obj, Mapping):
        return {str(k): formula_json(v) for k, v in obj.items()}
    if isinstance(obj, (tuple, list)):
        return [formula_json(v) for v in obj]
    if hasattr(obj, "to_latex"):
        return {"text": str(getattr(obj, "label", type(obj).__name__)), "latex": obj.to_latex()}
    return str(obj)


def lemma_json(name: str) -> dict:
    from gifsym.theory import lemmas

    lem = lemmas.get(name)
    return {
        "name": lem.name,
        "kind": lem.kind,
        "title": lem.title,
        "status": lemmas.status(name),
        "statement": lem.statement,
        "assumptions": list(lem.assumptions),
        "uses": list(lem.uses),
        "any_of": list(lem.any_of),
        "requires": sorted(lemmas.requires(name)),
        "alternatives": {a: sorted(req) for a, req in lemmas.alternatives(name)},
        "reference": lem.reference,
        "checks": [str(c.function) if not callable(c.function) else getattr(c.function, "__name__", "check")
                   for c in lemmas.registry().checks(name)],
    }


@click.group("lemmas")
def lemmas() -> None:
    """The lemma graph: every result of the theory, its assumptions and dependencies."""


@lemmas.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_cmd(as_json: bool) -> None:
    """Every lemma in dependency order: name, kind, status and direct assumptions."""
    from gifsym.theory import lemmas as lm

    names = lm.names()
    if as_json:
        emit_json([lemma_json(n) for n in names])
        return
    for n in names:
        lem = lm.get(n)
        ass = ", ".join(lem.assumptions) or "-"
        click.echo(f"{n:28} {lem.kind:12} {lm.status(n):20} {ass:22} {lem.title}")


@lemmas.command("show")
@click.argument("name")
@click.option("--schedule", "-s", "schedule_spec", metavar="SPEC", help="Also derive the formula for this schedule.")
@click.option("--target", "-T", "target_spec", metavar="SPEC", help="... and this target (with --schedule).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--latex", is_flag=True, help="Print the lemma as a LaTeX environment.")
def show(name: str, schedule_spec: str | None, target_spec: str | None, as_json: bool, latex: bool) -> None:
    """One lemma: statement, kind, status, assumptions, what it uses and requires (and its formula for a flow)."""
    from gifsym.cli._common import exclusive
    from gifsym.errors import GifsymError

    exclusive(json=as_json, latex=latex)
    from gifsym.theory import lemmas as lm

    lem = lm.get(name)
    formula = None
    if (schedule_spec is None) != (target_spec is None):
        raise GifsymError("give both --schedule and --target to derive the formula for a flow")
    if schedule_spec is not None:
        from gifsym.gif import GIF
        from gifsym.symbolic.schedule import schedule
        from gifsym.symbolic.target import target

        formula = lm.derive(name, GIF(schedule(schedule_spec), target(target_spec)))
    if as_json:
        out = lemma_json(name)
        if schedule_spec is not None:
            out["formula"] = formula_json(formula)
        emit_json(out)
        return
    if latex:
        click.echo(lem.to_latex())
        return
    d = lemma_json(name)
    click.echo(f"{lem.name} ({lem.kind}, {d['status']}): {lem.title}")
    click.echo(f"  statement:   {lem.statement}")
    click.echo(f"  assumptions: {', '.join(lem.assumptions) or '-'}")
    click.echo(f"  uses:        {', '.join(lem.uses) or '-'}")
    if lem.any_of:
        click.echo(f"  one of:      {', '.join(lem.any_of)}")
    click.echo(f"  requires:    {', '.join(d['requires']) or '-'}")
    if lem.reference:
        click.echo(f"  reference:   {lem.reference}")
    if schedule_spec is not None:
        click.echo(f"  formula for schedule {schedule_spec}, target {target_spec}:")
        for line in _describe(formula):
            click.echo(f"    {line}")


def _describe(obj: Any) -> list[str]:
    """Readable lines for a derived formula (bound pieces, envelopes, constants, mappings)."""
    if isinstance(obj, Mapping):
        return [f"{k} = {v}" for k, v in obj.items()]
    if isinstance(obj, (tuple, list)):
        return [line for o in obj for line in _describe(o)]
    if hasattr(obj, "side") and hasattr(obj, "label") and hasattr(obj, "formula"):
        return [f"{obj.side} {obj.label} on {obj.interval}: {obj.formula}"]
    if hasattr(obj, "expr") and hasattr(obj, "interval"):
        return [f"{obj.side} = {obj.expr} on {obj.interval}"]
    if hasattr(obj, "value") and hasattr(obj, "method"):
        return [f"{obj.value} ({obj.method})" + (f": {obj.reason}" if getattr(obj, "reason", "") else "")]
    if hasattr(obj, "interval") and hasattr(obj, "reason"):
        return [f"interval = {obj.interval} ({obj.reason})"]
    return [str(obj)]


@lemmas.command("requires")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def requires(name: str, as_json: bool) -> None:
    """The assumption ids a lemma needs: its own and those of every lemma it uses, transitively."""
    from gifsym.theory import lemmas as lm

    req = sorted(lm.requires(name))
    alts = lm.alternatives(name)
    if as_json:
        emit_json({"name": name, "requires": req, "alternatives": {a: sorted(r) for a, r in alts}})
        return
    click.echo(", ".join(req) if req else "(no assumptions)")
    if alts:
        click.echo("and one of: " + "; ".join(f"{a} ({', '.join(sorted(r - set(req))) or 'nothing more'})"
                                            for a, r in alts))


@lemmas.command("graph")
@click.option("-o", "--output", "output", metavar="FILE", help="Write FILE.dot, .svg, .png or .pdf (default: DOT on stdout).")
@click.option("--full", is_flag=True, help="Draw every edge (default: the transitive reduction).")
@click.option("--schedule", "-s", "schedule_spec", metavar="SPEC", help="Grey out the lemmas that do not apply to this flow.")
@click.option("--target", "-T", "target_spec", metavar="SPEC", help="... with this target (with --schedule).")
def graph(output: str | None, full: bool, schedule_spec: str | None, target_spec: str | None) -> None:
    """Draw the lemma graph (transitive reduction, coloured by status) as DOT, SVG, PNG or PDF."""
    from gifsym.errors import GifsymError
    from gifsym.theory import lemmas as lm

    gif = None
    if (schedule_spec is None) != (target_spec is None):
        raise GifsymError("give both --schedule and --target to grey out the lemmas that do not apply")
    if schedule_spec is not None:
        from gifsym.gif import GIF
        from gifsym.symbolic.schedule import schedule
        from gifsym.symbolic.target import target

        gif = GIF(schedule(schedule_spec), target(target_spec))
    if output is None:
        click.echo(lm.to_dot(gif=gif, reduced=not full), nl=False)
        return
    path = lm.draw(output, gif=gif, reduced=not full)
    click.echo(f"wrote {path}", err=True)
