"""MkDocs hook: replace ``<!-- gifsym-cli-help -->`` in a page with the ``--help`` text of every command.

The CLI reference is generated from the click commands themselves at build time, so it cannot drift
from the code. Loaded by ``hooks:`` in mkdocs.yml (this folder is excluded from the site).
"""

from __future__ import annotations

import os
import sys

import click

MARKER = "<!-- gifsym-cli-help -->"


def _help(cmd: click.Command, name: str, parent: click.Context) -> str:
    ctx = click.Context(cmd, info_name=name, parent=parent, terminal_width=100, max_content_width=100)
    return cmd.get_help(ctx)


def cli_help_markdown() -> str:
    """Markdown sections with the help of ``gifsym``, each command and each sub-command of a group."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if root not in sys.path:
        sys.path.insert(0, root)
    from gifsym.cli import COMMANDS, LazyGroup, app

    top = click.Context(app, info_name="gifsym", terminal_width=100, max_content_width=100)
    parts = ["### `gifsym`", "", "```text", app.get_help(top), "```", ""]
    for name in COMMANDS:
        cmd = LazyGroup._load(name)
        if cmd is None:
            continue
        parts += [f"### `gifsym {name}`", "", "```text", _help(cmd, name, top), "```", ""]
        if isinstance(cmd, click.Group):
            group_ctx = click.Context(cmd, info_name=name, parent=top)
            for sub in cmd.list_commands(group_ctx):
                parts += [
                    f"#### `gifsym {name} {sub}`",
                    "",
                    "```text",
                    _help(cmd.get_command(group_ctx, sub), sub, group_ctx),
                    "```",
                    "",
                ]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, cli_help_markdown())
    return markdown
