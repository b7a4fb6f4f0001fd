"""`distill import`: an existing Hugging Face checkpoint (a save_pretrained or sentence-transformers
folder, or a hub id) into a validated model folder that `serve` loads, without training."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill.cli import options as opt
from distill.cli.common import user_errors
from distill.export.variants import VARIANTS


def import_model(
    model: Annotated[str, typer.Option("--model", help="A checkpoint directory (save_pretrained or "
                                       "sentence-transformers), or a Hugging Face hub id (needs network).")],
    output_dir: Annotated[Path, typer.Option("--output-dir", help="The model folder to write (e.g. models/NAME).")],
    name: opt.ExportName = None, variants: opt.Variants = ",".join(VARIANTS),
    validation_data: Annotated[Path | None, typer.Option(
        "--validation-data", help="Labelled rows to check the variants on, in the format of the task's validation "
        "file (docs/CONTRACTS.md); default: built-in inputs labelled by the model's own predictions.")] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace the model folder when it exists and is not empty.")] = False,
) -> None:
    """Import a Hugging Face checkpoint as an ONNX model folder, checked against PyTorch."""
    from distill.importer.checkpoint import CheckpointError
    from distill.importer.import_checkpoint import ImportConfig, import_checkpoint

    config = ImportConfig(model, output_dir, name, opt.variants_tuple(variants), validation_data, overwrite)
    with user_errors():
        try:
            manifest = import_checkpoint(config)
        except (CheckpointError, FileNotFoundError) as error:
            raise typer.BadParameter(str(error)) from None
    typer.echo(f"imported {model} as {manifest.task} into {output_dir}")
