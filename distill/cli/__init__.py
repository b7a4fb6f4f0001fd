"""`distill`: fine-tune a BERT teacher, distil a DistilBERT student, evaluate, report and export.
Commands in `commands` and `default`; their shared option groups in `options`, errors in `common`."""

from __future__ import annotations

import typer

from distill.cli import commands
from distill.cli.default import build_default
from distill.cli.general import general
from distill.cli.importing import import_model

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.split("\n")[0], rich_markup_mode=None)
for command in (commands.teacher, commands.student, commands.evaluate, commands.run, commands.export):
    app.command()(command)
app.command()(general)
app.command("build-default")(build_default)
app.command("import")(import_model)


def main() -> None:
    app()
