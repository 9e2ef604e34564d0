"""gifsym's version (one place: the package metadata and the CLI's ``--version`` read it)."""

__version__ = "0.1.0"
