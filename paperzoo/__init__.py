"""The application layer: both command lines (``reading``, ``zoo``) and every workflow that spans the libraries.

``reading``, ``index`` and ``zoo`` import none of each other; what joins them (search with a sync first, results
stored in the log, model <-> paper links, claimed vs measured) lives here once, and the CLIs and ``ui/`` call it.

Importing this package is light: its modules import ``index`` and ``zoo`` only where a command or workflow needs them.
"""
