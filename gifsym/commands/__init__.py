"""Click commands of the ``gifsym`` CLI, one module per command group (registered lazily in gifsym.cli)."""
