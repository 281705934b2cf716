"""Benchmark scripts: each prints one comparable line per figure (a ratio against a baseline measured in the same run)."""
