"""The ``zoo`` command line (``zoo ...`` or ``python -m zoo ...``): thin veneers over the ``zoo`` API."""
from __future__ import annotations

import json

import click

import zoo

from . import zoo_cli_bench, zoo_cli_export, zoo_cli_supernet
from ._cli import Group
from ._echo import echo


def _fmt_count(n: int | None, unit: float, suffix: str) -> str:
    return "-" if n is None else f"{n / unit:.3f} {suffix}"


@click.group(cls=Group)
def cli() -> None:
    """Models from the papers: ResNet, ShuffleNet V1/V2, SPOS.

    Example: zoo list "shufflenet_v2*"
    """


@cli.command("list")
@click.argument("pattern", required=False)
@click.option("--pretrained", is_flag=True, help="Only models with released weights.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of names.")
def list_cmd(pattern: str | None, pretrained: bool, as_json: bool) -> None:
    """List canonical model names, optionally matching a shell-style PATTERN.

    Example: zoo list "resnet*" --pretrained
    """
    names = zoo.list_models(pattern, pretrained=pretrained)
    if as_json:
        echo(json.dumps(names))
        return
    if not names:
        raise click.ClickException(f"no model matches {pattern!r}; try zoo list")
    for name in names:
        card = zoo.info(name)
        tags = ",".join(w.tag for w in card.weights) or "-"
        echo(f"{name:<34} {card.family:<14} {_fmt_count(card.params, 1e6, 'M'):>11} params "
                   f"{_fmt_count(card.macs, 1e6, 'M'):>13} MACs  weights: {tags}")


@cli.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the card as JSON.")
def info_cmd(name: str, as_json: bool) -> None:
    """Show the model card of NAME (aliases work): papers, claimed vs counted figures, weights.

    Example: zoo info shufflenet_v2
    """
    card = zoo.info(name)
    if as_json:
        echo(json.dumps(card.to_dict(), indent=2))
        return
    echo(f"{card.name}  ({card.family})  {card.description}")
    if card.aliases:
        echo(f"aliases: {', '.join(card.aliases)}")
    echo(f"papers: {', '.join('arXiv:' + p for p in card.papers) or '-'}")
    echo(f"counted: {_fmt_count(card.params, 1e6, 'M')} params, {_fmt_count(card.macs, 1e6, 'M')} MACs "
               f"at {'x'.join(map(str, card.input_size))}")
    for c in card.claims:
        where = f"{c.source}" + (f", arXiv:{c.paper}" if c.paper else "")
        echo(f"claimed: {c.metric} {c.value:g}{c.unit}  ({where})")
    for w in card.weights:
        metrics = " ".join(f"{k} {v:g}" for k, v in w.metrics.items())
        where = w.url or f"manual download from {w.page}"
        echo(f"weights {w.tag}: {metrics}  [{w.source}, {w.licence}]  file {w.file_name}  {where}")


cli.add_command(zoo_cli_bench.bench_cmd)
cli.add_command(zoo_cli_bench.eval_cmd)
cli.add_command(zoo_cli_bench.compare_cmd)
cli.add_command(zoo_cli_bench.sync_links_cmd)
cli.add_command(zoo_cli_supernet.supernet)
cli.add_command(zoo_cli_export.export_cmd)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="zoo")
