"""Sentence embeddings as a `distill` task (`distill.task_protocol.Task`, contract name
`feature-extraction`): the teacher is any BERT encoder with its own pooling (read from its
sentence-transformers configuration), the student a DistilBERT encoder with the same pooling,
distilled on raw sentences (no labels) with the squared distance and 1 - cosine between the
student's and the teacher's sentence embeddings, plus the hidden-state cosine when its weight is
not zero. Without the hidden-state term the teacher's embeddings of the training sentences are
computed once and kept on disk (`distill.tasks.embeddings.targets`), and the training steps run the
student only, on batches of sentences of similar length.

Quality: the Spearman correlation of cosine similarities with the gold scores of STS pairs when an
STS file is given (`--sts-data`, headline `spearman`), and always the mean cosine between the
student's and the teacher's embeddings of held-out sentences (headline `mean_cosine` without STS).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from distill.data import DataError
from distill.jsonl import iter_jsonl, write_jsonl
from distill.student_info import read_general_info
from distill.task_protocol import DataOptions, OptionValues, fields_of
from distill.tasks.embeddings import export, models
from distill.tasks.embeddings.data import EmbeddingData, EmbeddingDataConfig, load_data
from distill.tasks.embeddings.evaluate import evaluate_embedders
from distill.tasks.embeddings.losses import embedding_loss
from distill.tasks.embeddings.pooling import read_pooling
from distill.tasks.embeddings.sts import read_sts
from distill.tasks.embeddings.targets import StoredTargets, teacher_embeddings
from distill.teacher import resolve_teacher
from modelfolder.manifest import FEATURE_EXTRACTION

STS_FILE = "validation_sts.jsonl"  # the STS pairs, in the student folder when the run had them
METRICS = (("mean_cosine", "mean cosine to teacher"), ("spearman", "STS Spearman"))


@dataclass(frozen=True)
class EmbeddingOptions:
    max_seq_len: int = 128  # tokens per sentence; longer ones are truncated
    metric: str | None = None  # headline: spearman with STS pairs, else mean_cosine
    cache_dir: str | None = None  # where the teacher's stored embeddings live; None: RUN/teacher-embeddings


class SentenceDataset(torch.utils.data.Dataset):
    """Tokenised sentences, no padding (the collator pads each batch) and no labels."""

    def __init__(self, tokenizer, sentences: list[str], max_seq_len: int):
        self.encodings = tokenizer(sentences, truncation=True, max_length=max_seq_len)

    def __len__(self) -> int:
        return len(self.encodings["input_ids"])

    def __getitem__(self, i: int) -> dict:
        return {key: self.encodings[key][i] for key in ("input_ids", "attention_mask")}


class EmbeddingTask:
    name = FEATURE_EXTRACTION
    metrics = METRICS
    headline = "spearman"
    validation_file = "validation.jsonl"
    label_keys = ()
    group_by_length = True  # sentences of similar length together: little padding in each batch

    def make_options(self, values: OptionValues) -> EmbeddingOptions:
        return EmbeddingOptions(values.max_seq_len or EmbeddingOptions.max_seq_len, values.metric,
                                values.embedding_cache)

    def data_config(self, options: DataOptions) -> EmbeddingDataConfig:
        return EmbeddingDataConfig(**fields_of(EmbeddingDataConfig, vars(options)))

    load_data = staticmethod(load_data)

    def adapt_options(self, options: EmbeddingOptions, data: EmbeddingData) -> EmbeddingOptions:
        available = ["mean_cosine"] + (["spearman"] if data.sts is not None else [])
        metric = options.metric or available[-1]
        if metric not in available:
            raise DataError(f"--metric {metric!r} is not available; choose one of {', '.join(available)} "
                            "(spearman needs --sts-data)")
        return EmbeddingOptions(options.max_seq_len, metric, options.cache_dir)

    def info(self, options: EmbeddingOptions, data: EmbeddingData) -> dict:
        return {"max_seq_len": options.max_seq_len, "labels": [], "headline": options.metric,
                "sts": data.sts is not None}

    def options_from_info(self, info: dict) -> EmbeddingOptions:
        return EmbeddingOptions(info["max_seq_len"], info.get("headline"))

    def teacher_has_head(self, location: str, data: EmbeddingData) -> bool:
        return True  # any encoder: the pooling is the head

    def missing_head_message(self, teacher: str, data: EmbeddingData) -> str:
        return f"teacher {teacher!r} cannot be used as a sentence encoder"

    def load_teacher(self, location: str, data: EmbeddingData, options=None):
        return models.load_embedder(location)

    def load_model(self, folder: str, **kwargs):
        return models.load_embedder(folder, **kwargs)

    def labels_of(self, model, info: dict, where: Path) -> list[str]:
        if not isinstance(model, models.SentenceEmbedder):
            raise ValueError(f"{where}: not a sentence embedder")
        return []

    def build_student(self, teacher, layers: int, data: EmbeddingData):
        return models.build_student(teacher, layers)

    def student_from(self, general_student: str, data: EmbeddingData):
        """A general student's encoder with its teacher's pooling."""
        teacher = read_general_info(Path(general_student))["teacher"]
        return models.student_from(general_student, read_pooling(resolve_teacher(teacher)))

    def teacher_targets(self, teacher, data: EmbeddingData, options: EmbeddingOptions, run_dir: Path):
        """The teacher's embeddings of the training sentences, stored on disk, as the trainer's cache."""
        from tqdm.auto import tqdm

        folder = Path(options.cache_dir) if options.cache_dir else Path(run_dir) / "teacher-embeddings"
        stored = teacher_embeddings(teacher.model, teacher.name, teacher.tokenizer, data.train, options.max_seq_len,
                                    folder, say=tqdm.write)
        return StoredTargets(stored)

    def datasets(self, tokenizer, data: EmbeddingData, options: EmbeddingOptions, seed: int):
        return SentenceDataset(tokenizer, data.train, options.max_seq_len), None

    def collator(self, tokenizer):
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(tokenizer)

    def trainer_metrics(self, prediction) -> dict[str, float]:
        return {}

    def distillation_loss(self, weights, student, teacher, labels: dict, attention_mask, hidden):
        return embedding_loss(weights, student.embedding, teacher.embedding, hidden)

    def eval_outputs(self, outputs) -> models.EmbeddingOutput:
        return models.EmbeddingOutput(embedding=outputs.embedding)

    def write_validation(self, folder: Path, data: EmbeddingData) -> None:
        write_validation(Path(folder), data)

    def read_validation(self, folder: Path, info: dict) -> EmbeddingData:
        folder = Path(folder)
        texts = [row["text"] for _, row in iter_jsonl(folder / self.validation_file)]
        sts = read_sts(folder / STS_FILE) if (folder / STS_FILE).is_file() else None
        return EmbeddingData([], texts, sts, {"source": self.validation_file, "validation_examples": len(texts),
                                              "sts_pairs": len(sts) if sts else 0})

    def evaluate(self, models: list, tokenizer, data: EmbeddingData, options: EmbeddingOptions, config) -> list[dict]:
        return evaluate_embedders(models, tokenizer, data, options.max_seq_len, config)

    def export_inputs(self, staging: Path, student, config):
        data = self.read_validation(student.folder, student.info)
        held_out = data.validation[: config.max_validation_examples]
        sts = data.sts
        student.info["embedding"] = student.model.settings()  # what the manifest's embedding block says
        return export.prepare_inputs(staging, student, held_out, sts, config)

    reference = staticmethod(export.embedding_reference)
    chain_rows = staticmethod(export.chain_rows)

    def manifest_fields(self, info: dict) -> dict:
        return {"headline_metric": info.get("headline") or "mean_cosine", "embedding": info["embedding"]}


def write_validation(folder: Path, data: EmbeddingData) -> None:
    """The held-out sentences (validation.jsonl) and the STS pairs (validation_sts.jsonl), if any."""
    write_jsonl(folder / EmbeddingTask.validation_file, ({"text": text} for text in data.validation))
    if data.sts is not None:
        write_jsonl(folder / STS_FILE, data.sts.records())
