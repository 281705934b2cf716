"""``zoo export``: a thin veneer over ``zoo.export`` (an ONNX file, checked against eager before it is kept)."""
from __future__ import annotations

from pathlib import Path

import click

import zoo

from ._cli import OutputFile, check_output
from ._echo import echo
from ._params import BATCH, input_size as parse_input_size

__all__ = ["export_cmd"]


@click.command("export")
@click.argument("name")
@click.option("--output", "-o", required=True, type=OutputFile(),
              help="The .onnx file to write (atomically; nothing is written when the check fails).")
@click.option("--weights", default=None, help="Weights tag, DEFAULT or a checkpoint path (default: random init).")
@click.option("--input-size", default="224", show_default=True,
              help="Height and width the file is traced at: 224 or 224x192 (the batch stays dynamic).")
@click.option("--fixed-batch", type=BATCH, default=None,
              help="Fix the batch dimension to this size instead of leaving it dynamic.")
def export_cmd(name: str, output: Path, weights: str | None, input_size: str, fixed_batch: int | None) -> None:
    """Export NAME (aliases work) to ONNX, checked with ONNX Runtime against the eager model (1e-4 relative).

    Example: zoo export shufflenet_v2 -o shufflenet_v2.onnx --weights DEFAULT
    """
    hw = parse_input_size(input_size, channels=False)
    assert hw is not None
    canonical = zoo.resolve(name)
    channels = zoo.info(canonical).input_size[-3]
    check_output(output)  # again, just before writing: a link may have been pointed at the log since parsing
    path = zoo.export(canonical, output, weights=weights, input_size=(fixed_batch or 1, channels, *hw),
                      dynamic_batch=fixed_batch is None)
    echo(f"wrote {path} ({canonical}, input {'batch' if fixed_batch is None else fixed_batch}x{channels}x"
         f"{hw[0]}x{hw[1]}); ONNX Runtime's outputs are within 1e-4 relative of eager")
