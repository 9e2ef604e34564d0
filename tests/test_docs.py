"""The documentation's examples run: ``>>>`` blocks as doctests, ``gifsym`` lines of ``bash`` blocks as
real invocations (in a scratch folder), and the CLI reference covers every command and option."""

from __future__ import annotations

import doctest
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.glob("*.md"))
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)

# Commands that need a tool from outside Python, and the tool.
NEEDS = {"--pdf": "pdflatex", "lemmas graph": "dot", "plot lemmas": "dot"}
# Commands that run the JAX numerics or pdflatex: correct but slow, run with -m slow.
SLOW = ("verify", "simulate", "plot trajectories", "--pdf")


def _blocks(page: Path, lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(page.read_text(encoding="utf-8")) if kind == lang]


def _gifsym_lines(page: Path) -> list[list[str]]:
    """Every ``gifsym …`` / ``python cli.py …`` line of the page's bash blocks, as argv (comments removed)."""
    out = []
    for body in _blocks(page, "bash"):
        for line in body.splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["gifsym"]:
                out.append(words[1:])
            elif words[:2] in (["python", "cli.py"], ["python3", "cli.py"]):
                out.append(words[2:])
    return out


def _command_cases():
    for page in PAGES:
        for i, argv in enumerate(_gifsym_lines(page)):
            line = " ".join(argv)
            marks = [pytest.mark.slow] if any(s in line for s in SLOW) else []
            if "--pdf" in line:
                marks.append(pytest.mark.latex)
            yield pytest.param(page.name, argv, id=f"{page.stem}-{i}-{'_'.join(argv[:2])}", marks=marks)


def test_every_page_is_in_the_nav():
    import yaml

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8").replace("!!python", "#"))
    listed = {next(iter(item.values())) for item in config["nav"]}
    assert {p.name for p in PAGES} <= listed, "pages missing from mkdocs.yml nav"


def _python_source(page: Path) -> str:
    """The page with everything outside ```python blocks blanked out, so doctest line numbers match."""
    text = page.read_text(encoding="utf-8")
    lines = text.splitlines()
    inside = False
    keep = []
    for line in lines:
        if line.startswith("```"):
            inside = line.strip() == "```python" if not inside else False
            keep.append("")
            continue
        keep.append(line if inside else "")
    return "\n".join(keep) + "\n"


@pytest.mark.parametrize(
    "page", [p for p in PAGES if ">>>" in p.read_text(encoding="utf-8")], ids=lambda p: p.stem
)
def test_python_examples(page):
    test = doctest.DocTestParser().get_doctest(_python_source(page), {}, page.name, str(page), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {page.name}"


@pytest.mark.parametrize("page_name, argv", list(_command_cases()))
def test_bash_examples(page_name, argv, tmp_path, monkeypatch):
    from gifsym.cli import app

    line = " ".join(argv)
    for flag, tool in NEEDS.items():
        if flag in line and shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, argv, catch_exceptions=True)
    assert result.exit_code == 0, f"{page_name}: gifsym {line}\n{result.output}\n{result.exception!r}"
    assert result.output.strip() or os.listdir(tmp_path), f"{page_name}: gifsym {line} printed nothing"


def test_cli_reference_covers_every_command_and_option():
    """docs/cli.md is generated at build time, but its hand-written part names every command."""
    from gifsym.cli import COMMANDS, LazyGroup

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        if LazyGroup._load(name) is None:
            continue
        assert f"gifsym {name}" in text, f"docs/cli.md does not mention `gifsym {name}`"
