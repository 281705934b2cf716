"""Where the log lives by default: the one place that reads the environment."""
from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "READING_DB"


def default_db_path() -> Path:
    """The log file to use when none is given.

    ``$READING_DB`` when set, else ``$XDG_DATA_HOME/paper-zoo/reading.db`` (``~/.local/share`` when XDG_DATA_HOME
    is unset or empty).
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "paper-zoo" / "reading.db"
