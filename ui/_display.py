"""Tables as the pages show them: missing cells as "—" (never "None"), floats to 4 significant digits, whole
numbers as integers.

Streamlit draws a missing cell as "None" whatever a ``Styler`` says, so a column with gaps is turned into text;
a column without gaps keeps its numbers (and sorts as numbers), only displayed rounded.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

MISSING = "—"


def number(value: Any) -> str:
    """``value`` for display: whole numbers without decimals, others to 4 significant digits, with separators."""
    if isinstance(value, (int, float)) and float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value)}"
    return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"


def table(rows: Sequence[dict[str, Any]] | pd.DataFrame, *, columns: Sequence[str] | None = None) -> Styler:
    """``rows`` as a styled frame for ``st.dataframe``, with no "None" cell and no long float."""
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=columns)
    floats = []
    for name in frame.columns:
        col = frame[name]
        missing = col.isna()
        if pd.api.types.is_bool_dtype(col):
            continue
        if pd.api.types.is_numeric_dtype(col):
            if missing.any():
                frame[name] = [MISSING if gone else number(v) for v, gone in zip(col, missing)]
            elif pd.api.types.is_float_dtype(col):
                floats.append(name)
        elif missing.any():
            frame[name] = [MISSING if gone else v for v, gone in zip(col, missing)]
    styler = frame.style
    if floats:
        styler = styler.format(number, subset=floats)
    return styler
