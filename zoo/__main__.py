"""``python -m zoo``: the same command line as the ``zoo`` console script, which lives in :mod:`paperzoo.zoo_cli`."""
from paperzoo.zoo_cli import cli, main

__all__ = ["cli", "main"]

if __name__ == "__main__":
    main()
