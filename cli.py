"""Run the gifsym command line from a checkout: ``python cli.py ...`` (same app as the ``gifsym`` command)."""

from gifsym.cli import main

if __name__ == "__main__":
    main()
