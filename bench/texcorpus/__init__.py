"""A realistic PDF corpus typeset by pdfLaTeX with the classes conferences use (see make_corpus.py)."""
from ._content import LAYOUTS, library
from .make_corpus import FIXTURES, TexMissing, make_corpus, make_library

__all__ = ["FIXTURES", "LAYOUTS", "TexMissing", "library", "make_corpus", "make_library"]
