"""`distill import`: an existing Hugging Face checkpoint (a save_pretrained or sentence-transformers
folder, a hub id, or the built-in `minilm`) into a validated model folder that `serve` loads,
without training."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill.cli import options as opt
from distill.cli.common import user_errors, variant_settings
from distill.export.static_int8 import CalibrationSettings
from distill.export.variants import IMPORT_VARIANTS

DONE = {"import": "imported", "replace": "imported again (its source changed)", "keep": "unchanged, kept"}


def import_model(
    model: Annotated[str, typer.Option("--model", help="A checkpoint directory (save_pretrained or "
                                       "sentence-transformers), a Hugging Face hub id (needs network), or "
                                       "minilm (the built-in all-MiniLM-L6-v2).")],
    output_dir: Annotated[Path, typer.Option("--output-dir", help="The model folder to write (e.g. models/NAME).")],
    name: opt.ExportName = None, variants: opt.Variants = ",".join(IMPORT_VARIANTS),
    validation_data: Annotated[Path | None, typer.Option(
        "--validation-data", help="Labelled rows to check the variants on, in the format of the task's validation "
        "file (docs/CONTRACTS.md); default: built-in inputs labelled by the model's own predictions.")] = None,
    max_seq_len: Annotated[int | None, typer.Option(
        "--max-seq-len", min=8, help="Longest input in tokens; default: the longest the checkpoint's position "
        "embeddings and tokenizer allow (512 at most; 384 for question answering).")] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Replace the model folder when it exists and is not empty.")] = False,
    calibration_method: opt.CalibrationMethod = CalibrationSettings.method,
    if_changed: Annotated[bool, typer.Option(
        "--if-changed", help="Keep the folder when it already holds an import of this source (the same hub "
        "revision, or the same directory with the same weights); import again over it when the source "
        "changed. What `serve --model-id` runs at every start.")] = False,
) -> None:
    """Import a Hugging Face checkpoint as an ONNX model folder, checked against PyTorch."""
    from distill.importer.checkpoint import CheckpointError
    from distill.importer.import_checkpoint import ImportConfig, import_checkpoint

    config = ImportConfig(model, output_dir, name, opt.variants_tuple(variants), validation_data, overwrite,
                          max_seq_len=max_seq_len, if_changed=if_changed, settings=variant_settings(calibration_method))
    with user_errors():
        try:
            manifest, decision = import_checkpoint(config)
        except (CheckpointError, FileNotFoundError, FileExistsError) as error:
            raise typer.BadParameter(str(error)) from None
    typer.echo(f"{model}: {DONE[decision.value]} as {manifest.task} in {output_dir}")
