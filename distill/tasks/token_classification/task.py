"""Token classification as a `distill` task (`distill.task_protocol.Task`): CoNLL-style tagged words,
a tag per word predicted at its first sub-token, KL / cross-entropy over those positions (plus the
hidden-state cosine), and entity-level precision / recall / F1 (exact span and type) as quality."""

from __future__ import annotations

from pathlib import Path

from transformers import (
    AutoModelForTokenClassification,
    DataCollatorForTokenClassification,
    DistilBertForTokenClassification,
)
from transformers.modeling_outputs import TokenClassifierOutput

from distill.data import DataError
from distill.jsonl import iter_jsonl, write_jsonl
from distill.task_protocol import DataOptions, OptionValues, fields_of
from distill.tasks.token_classification import export
from distill.tasks.token_classification import models as tagging
from distill.tasks.token_classification.data import Sentence, TokenData, TokenDataConfig, load_token_data
from distill.tasks.token_classification.evaluate import evaluate_tagger
from distill.tasks.token_classification.features import (
    IGNORE,
    TokenDataset,
    WindowConfig,
    check_window_config,
    make_windows,
)
from distill.tasks.token_classification.losses import token_distillation_loss
from modelfolder.manifest import TOKEN_CLASSIFICATION


class TokenClassificationTask:
    name = TOKEN_CLASSIFICATION
    metrics = (("entity_f1", "entity F1"), ("entity_precision", "entity precision"),
               ("entity_recall", "entity recall"))
    headline = "entity_f1"
    validation_file = "validation_tokens.jsonl"
    label_keys = ("labels",)
    group_by_length = True  # sentences run from one word to a whole window

    def make_options(self, values: OptionValues) -> WindowConfig:
        given = {k: v for k, v in vars(values).items() if v is not None}  # the others: the defaults
        options = WindowConfig(**fields_of(WindowConfig, given))
        check_window_config(options)
        return options

    def data_config(self, options: DataOptions) -> TokenDataConfig:
        if options.source == DataOptions.source:  # the built-in movie reviews
            raise DataError("token classification needs CoNLL-style files (token<TAB>tag lines; --data PATH)")
        return TokenDataConfig(**fields_of(TokenDataConfig, vars(options)))

    load_data = staticmethod(load_token_data)

    def adapt_options(self, options: WindowConfig, data: TokenData) -> WindowConfig:
        return options

    def info(self, options: WindowConfig, data: TokenData) -> dict:
        return {"max_seq_len": options.max_seq_len, "doc_stride": options.doc_stride, "labels": list(data.labels),
                "label_scheme": data.scheme, "headline": self.headline}

    def options_from_info(self, info: dict) -> WindowConfig:
        return WindowConfig(int(info["max_seq_len"]), int(info["doc_stride"]))

    def teacher_has_head(self, location: str, data: TokenData) -> bool:
        return tagging.has_tagging_head(location, data.labels)

    def missing_head_message(self, teacher: str, data: TokenData) -> str:
        return (f"teacher {teacher!r} has no token-classification head for the tags {data.labels}; "
                "run `distill teacher --task token-classification` first (or `distill run`)")

    def load_teacher(self, location: str, data: TokenData, options=None):
        return tagging.load_tagger(location, data.labels)

    def load_model(self, folder: str, **kwargs):
        return AutoModelForTokenClassification.from_pretrained(folder, **kwargs)

    def labels_of(self, model, info: dict, where: Path) -> list[str]:
        labels = tagging.tag_names(model.config)
        if info.get("labels") and list(info["labels"]) != labels:
            raise ValueError(f"{where}: labels {info['labels']} differ from config {labels}")
        return labels

    def build_student(self, teacher, layers: int, data: TokenData):
        return tagging.build_tagger_student(teacher, layers, data.labels)

    def student_from(self, general_student: str, data: TokenData):
        """The task student from a general student's encoder (a new tagging head)."""
        return DistilBertForTokenClassification.from_pretrained(general_student, **tagging.label_kwargs(data.labels))

    def teacher_targets(self, teacher, data, options, run_dir: Path):
        return None  # the teacher runs at each step (or `TrainConfig.cache_teacher` keeps its outputs)

    def datasets(self, tokenizer, data: TokenData, options: WindowConfig, seed: int):
        """Labelled training windows and no evaluation set: evaluation runs afterwards on whole
        sentences (entity F1), not per window."""
        return TokenDataset(make_windows(tokenizer, data.train, data.labels, options)), None

    def collator(self, tokenizer):
        return DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE)

    def trainer_metrics(self, prediction) -> dict[str, float]:
        return {}

    def distillation_loss(self, weights, student, teacher, labels: dict, attention_mask, hidden):
        return token_distillation_loss(weights, student.logits, teacher.logits, labels["labels"], hidden)

    def eval_outputs(self, outputs) -> TokenClassifierOutput:
        return TokenClassifierOutput(logits=outputs.logits)

    def write_validation(self, folder: Path, data: TokenData) -> None:
        write_jsonl(Path(folder) / self.validation_file, (s.as_record() for s in data.validation))

    def read_validation(self, folder: Path, info: dict) -> TokenData:
        path = Path(folder) / self.validation_file
        sentences = [Sentence.from_record(r, f"{path}:{n}") for n, r in iter_jsonl(path)]
        description = {"source": self.validation_file, "validation_examples": len(sentences), "labels": info["labels"]}
        return TokenData([], sentences, list(info["labels"]), info.get("label_scheme", "IOB2"), description)

    def evaluate(self, models: list, tokenizer, data: TokenData, options: WindowConfig, config) -> list[dict]:
        windows = make_windows(tokenizer, data.validation, data.labels, options)
        pad_id = tokenizer.pad_token_id or 0
        return [evaluate_tagger(name, model, data.validation, windows, tagging.tag_names(model.config), pad_id, config)
                for name, model in models]

    def export_inputs(self, staging: Path, student, config):
        sentences = self.read_validation(student.folder, student.info).validation
        if config.max_validation_examples is not None:
            sentences = sentences[:config.max_validation_examples]
        return export.prepare_token_inputs(student, sentences, config)

    reference = staticmethod(export.token_reference)
    chain_rows = staticmethod(export.chain_rows)

    def manifest_fields(self, info: dict) -> dict:
        """The headline and the tag reading and windowing the service uses by default."""
        return {"headline_metric": self.headline,
                "token_classification": {"label_scheme": info["label_scheme"], "doc_stride": info["doc_stride"]}}
