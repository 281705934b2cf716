"""``python -m reading``: the same command line as the ``reading`` console script, in :mod:`paperzoo.reading_cli`."""
from paperzoo.reading_cli import cli, main

__all__ = ["cli", "main"]

if __name__ == "__main__":
    main()
