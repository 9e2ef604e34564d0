"""Run the gifsym command line from a checkout: ``python cli.py ...`` (same app as the ``gifsym`` command)."""

if __name__ == "__main__":
    from gifsym.cli import main

    main()
