"""Entry point of the background indexer process: ``python -m index._indexer DB [--opener M:F] [--model NAME]``
(see `index._background`)."""
import sys

from index._background import main

if __name__ == "__main__":
    sys.exit(main())
