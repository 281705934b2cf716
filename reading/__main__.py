"""``python -m reading``: the same command line as the ``reading`` console script."""
from .cli import main

if __name__ == "__main__":
    main()
