"""A general student (`distill general`) as a sentence-embedding student: its encoder with the
pooling of the teacher it was distilled from, and the held-out sentences (and STS pairs) the export
checks it on, written as a `feature-extraction` student folder that `distill export` turns into an
embedding model folder. Nothing is trained here: the embeddings are the general student's own."""

from __future__ import annotations

from pathlib import Path

from distill.student import StudentError
from distill.student_info import read_general_info, write_info
from distill.tasks.embeddings.data import EmbeddingDataConfig, load_data
from distill.tasks.embeddings.models import student_from
from distill.tasks.embeddings.pooling import read_pooling
from distill.tasks.embeddings.task import EmbeddingTask, write_validation
from distill.teacher import load_tokenizer, resolve_teacher


def embedding_student(general_dir: Path, folder: Path, data: EmbeddingDataConfig, max_seq_len: int) -> Path:
    """Write the embedding student of the general student at `general_dir` into `folder`."""
    try:
        general = read_general_info(general_dir)
    except FileNotFoundError as error:
        raise StudentError(str(error)) from None
    teacher = resolve_teacher(general["teacher"])
    model = student_from(str(general_dir), read_pooling(teacher))
    loaded = load_data(EmbeddingDataConfig(**{**vars(data), "max_train_examples": 0}))
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    load_tokenizer(str(general_dir)).save_pretrained(str(folder))
    write_validation(folder, loaded)
    write_info(folder, {
        "task": EmbeddingTask.name, "teacher": general["teacher"],
        "teacher_dir": teacher if Path(teacher).is_dir() else None,
        "student_layers": general["student_layers"], "layer_map": general["layer_map"],
        "max_seq_len": max_seq_len, "labels": [], "headline": "spearman" if loaded.sts else "mean_cosine",
        "sts": loaded.sts is not None, "metrics": {}, "student_init": str(Path(general_dir).resolve()),
    })
    return folder
