"""Question answering's settings: how contexts are cut into windows, how answers are read back,
and how many answerless training windows are kept; recorded in distill_info.json and read back."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from distill.tasks.question_answering.data import QAData
from distill.tasks.question_answering.features import WindowConfig
from distill.tasks.question_answering.metrics import SpanConfig


@dataclass(frozen=True)
class QAOptions:
    windows: WindowConfig = field(default_factory=WindowConfig)
    spans: SpanConfig = field(default_factory=SpanConfig)
    keep_answerless: float = 1.0  # share of answerless training windows kept (seeded)


def span_info(options: QAOptions) -> dict:
    """The window and answer settings recorded in distill_info.json (read back by `options_of`)."""
    w, s = options.windows, options.spans
    return {"max_seq_len": w.max_seq_len, "doc_stride": w.doc_stride, "max_question_len": w.max_question_len,
            "max_answer_len": s.max_answer_len, "null_threshold": s.null_threshold,
            "handle_impossible_answer": s.allow_impossible}


def options_of(info: dict) -> QAOptions:
    windows = WindowConfig(info["max_seq_len"], info["doc_stride"], info["max_question_len"])
    spans = SpanConfig(max_answer_len=info["max_answer_len"], null_threshold=info["null_threshold"],
                       allow_impossible=info["handle_impossible_answer"])
    return QAOptions(windows, spans)


def with_impossible(options: QAOptions, data: QAData) -> QAOptions:
    """SQuAD v2-style data (some questions without an answer) make the empty answer possible."""
    if not data.has_impossible:
        return options
    return replace(options, spans=replace(options.spans, allow_impossible=True))
