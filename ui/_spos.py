"""SPOS search results for the supernet page: read what ``zoo supernet search`` wrote (result or state JSON)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_candidates(path: str | Path) -> tuple[list[Any], dict[str, Any]]:
    """The scored candidates in a search result (``--out``) or search state (``--state``) file, and its summary.

    Raises:
        ValueError: the file is not an SPOS search result or state.
        OSError: it cannot be read.
    """
    from zoo import spos

    try:
        data = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except ValueError:
        raise ValueError(f"{path} is not JSON") from None
    cands: dict[str, Any] = {}
    if isinstance(data, dict) and isinstance(data.get("seen"), dict):  # a state file: every candidate scored
        for arch, e in data["seen"].items():
            if e.get("score") is not None:
                cands[arch] = spos.Candidate(spos.Arch.parse(arch), int(e["macs"]), e.get("latency_ms"),
                                             float(e["score"]))
        summary = {"iterations": data.get("iteration"), "history": data.get("history", [])}
    elif isinstance(data, dict) and isinstance(data.get("top"), list):
        for e in [*data["top"], *data.get("pareto", [])]:
            cands[e["arch"]] = spos.Candidate(spos.Arch.parse(e["arch"]), int(e["macs"]), e.get("latency_ms"),
                                              float(e["score"]))
        summary = {k: data.get(k) for k in ("evaluated", "rejected", "iterations", "history")}
    else:
        raise ValueError(f"{path} is not an SPOS search result or state file")
    return list(cands.values()), summary
