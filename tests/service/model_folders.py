"""Tiny, honest model folders for the service tests (and for a dry run of bench/serving/load.py).

A random 2-layer DistilBERT classifier (dim 32) is exported to ONNX with torch.onnx and written
with its tokenizer.json and a manifest from `modelfolder.manifest`. Built in about a second; nothing
is downloaded. Uses torch and transformers, which the service itself never imports.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from modelfolder.manifest import (
    SCHEMA_VERSION,
    TASK_OUTPUTS,
    Manifest,
    Variant,
    VariantValidation,
    sha256_file,
    write_manifest,
)
from tests.tiny import write_tokenizer

SENTIMENT_LABELS = ["negative", "positive"]
TOPIC_LABELS = ["world", "sports", "business"]


def _export_onnx(model, path: Path, vocab_size: int, task: str = "text-classification") -> None:
    import torch

    outputs = TASK_OUTPUTS[task]

    class OutputsOnly(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            result = self.inner(input_ids=input_ids, attention_mask=attention_mask)
            if isinstance(result, torch.Tensor):  # a module with one output (a sentence embedding)
                return result
            return tuple(getattr(result, name) for name in outputs)

    wrapper = OutputsOnly(model).eval()
    ids = torch.randint(5, vocab_size, (2, 8), dtype=torch.long)
    mask = torch.ones_like(ids)
    axes = {0: "batch", 1: "sequence"}
    per_token = task in ("question-answering", "token-classification")  # outputs with a sequence axis
    output_axes = {name: axes if per_token else {0: "batch"} for name in outputs}
    with torch.no_grad():
        torch.onnx.export(
            wrapper, (ids, mask), str(path), dynamo=False, opset_version=17,
            input_names=["input_ids", "attention_mask"], output_names=outputs,
            dynamic_axes={"input_ids": axes, "attention_mask": axes, **output_axes},
        )


def _variant(folder: Path, file: str, precision: str, note: str, recommended: bool = True) -> Variant:
    path = folder / file
    return Variant(
        file=file, precision=precision, sha256=sha256_file(path), size_bytes=path.stat().st_size,
        providers=["CPUExecutionProvider"], recommended=recommended,
        validation=VariantValidation(status="unvalidated", note=note),
    )


def build_classifier_folder(
    folder: Path, labels: list[str], seed: int = 0, max_seq_len: int = 32, with_int8_copy: bool = False,
    checkpoint_dir: Path | None = None, positions: int = 64, pairs: bool = False,
) -> Path:
    """Write a tiny text-classification model folder; returns the folder. With `checkpoint_dir`,
    the PyTorch model and tokenizer are also saved there (a stand-in teacher for benchmarks);
    `positions` is the graph's number of position embeddings (its longest input). `labels` empty:
    a regression model (one output); `pairs`: the manifest says it takes pairs."""
    import torch
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    folder = Path(folder)
    tokenizer = write_tokenizer(folder)
    torch.manual_seed(seed)
    vocab_size = max(tokenizer.get_vocab().values()) + 1  # every id the tokenizer can produce
    config = DistilBertConfig(
        vocab_size=vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
        max_position_embeddings=positions, num_labels=len(labels) or 1,
        id2label=dict(enumerate(labels or ["score"])), label2id={l: i for i, l in enumerate(labels or ["score"])},
    )
    model = DistilBertForSequenceClassification(config).eval()
    _export_onnx(model, folder / "model.onnx", vocab_size)
    if checkpoint_dir is not None:
        model.save_pretrained(str(checkpoint_dir))
        tokenizer.save_pretrained(str(checkpoint_dir))
    variants = {"fp32": _variant(folder, "model.onnx", "fp32", "random tiny test model")}
    if with_int8_copy:
        shutil.copyfile(folder / "model.onnx", folder / "model.int8.onnx")
        variants["int8"] = _variant(
            folder, "model.int8.onnx", "int8", "fp32 copy standing in for int8 (tests variant choice)"
        )
    _write_manifest(folder, "text-classification" if labels else "regression", max_seq_len, variants,
                    labels=labels, teacher="random tiny DistilBERT", student_layers=2, pairs=pairs)
    return folder


def _write_manifest(folder: Path, task: str, max_seq_len: int, variants: dict[str, Variant],
                    **extra) -> None:
    manifest = Manifest(
        schema_version=SCHEMA_VERSION, name=folder.name, task=task, max_seq_len=max_seq_len,
        outputs=TASK_OUTPUTS[task], tokenizer_sha256=sha256_file(folder / "tokenizer.json"),
        variants=variants, **extra,
    )
    write_manifest(folder, manifest)


# The rule model of question answering: a token's start / end logit is its word's weight below
# (CLS gets NULL_WEIGHT, every other token 0), so answers are known in advance: the best span runs
# from "begin" to "end"; "first" ... "last" comes next; a context with none of them is impossible.
QA_START_WEIGHTS = {"begin": 8.0, "first": 5.0}
QA_END_WEIGHTS = {"end": 8.0, "last": 5.0}
NULL_WEIGHT = 4.0
QA_WORDS = ["begin end first last zurich cafe museum river where is the what when who opens at"]


def _lookup_graph(path: Path, start_table, end_table, fixed_length: int | None = None) -> None:
    """start/end logits = table[input_ids] x attention_mask: two Gathers, built with onnx.helper.
    With `fixed_length`, the mask is added to zeros of that length: the graph then runs only on
    inputs of exactly that many tokens (like a graph exported with a static length)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    axes = ["batch", "sequence"]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, axes) for n in ("input_ids", "attention_mask")]
    outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, axes) for n in ("start_logits", "end_logits")]
    tables = [numpy_helper.from_array(start_table, "start_table"), numpy_helper.from_array(end_table, "end_table")]
    nodes = [helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT)]
    if fixed_length is not None:
        tables.append(numpy_helper.from_array(np.zeros((1, fixed_length), dtype=np.float32), "zeros"))
        nodes = [helper.make_node("Cast", ["attention_mask"], ["mask_any"], to=TensorProto.FLOAT),
                 helper.make_node("Add", ["mask_any", "zeros"], ["mask"])]
    for side in ("start", "end"):
        nodes += [
            helper.make_node("Gather", [f"{side}_table", "input_ids"], [f"{side}_raw"], axis=0),
            helper.make_node("Mul", [f"{side}_raw", "mask"], [f"{side}_logits"]),
        ]
    graph = helper.make_graph(nodes, "rule_qa", inputs, outputs, initializer=tables)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def build_rule_qa_folder(folder: Path, max_seq_len: int = 32, qa_defaults: dict | None = None,
                         fixed_length: bool = False) -> Path:
    """A question-answering folder whose answers follow QA_START_WEIGHTS / QA_END_WEIGHTS;
    `qa_defaults` become the manifest's `qa` block (the training-time request defaults); with
    `fixed_length` the graph runs only on inputs of exactly max_seq_len tokens."""
    import numpy as np

    folder = Path(folder)
    vocab = write_tokenizer(folder, extra_texts=QA_WORDS).get_vocab()
    tables = [np.zeros(max(vocab.values()) + 1, dtype=np.float32) for _ in range(2)]
    for table, weights in zip(tables, (QA_START_WEIGHTS, QA_END_WEIGHTS)):
        table[vocab["[CLS]"]] = NULL_WEIGHT
        for word, weight in weights.items():
            table[vocab[word]] = weight
    _lookup_graph(folder / "model.onnx", *tables, fixed_length=max_seq_len if fixed_length else None)
    variants = {"fp32": _variant(folder, "model.onnx", "fp32", "rule graph: logits by token id")}
    _write_manifest(folder, "question-answering", max_seq_len, variants, qa=qa_defaults)
    return folder


def _export_random(folder: Path, model_class, task: str, words: list[str], seed: int, labels: list[str] | None = None
                   ) -> None:
    """tokenizer.json and model.onnx of a random 2-layer DistilBERT (dim 32) of `model_class`."""
    import torch
    from transformers import DistilBertConfig

    tokenizer = write_tokenizer(folder, extra_texts=words)
    torch.manual_seed(seed)
    vocab_size = max(tokenizer.get_vocab().values()) + 1
    names = {"num_labels": len(labels), "id2label": dict(enumerate(labels)),
             "label2id": {label: i for i, label in enumerate(labels)}} if labels else {}
    config = DistilBertConfig(vocab_size=vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                              max_position_embeddings=64, **names)
    _export_onnx(model_class(config).eval(), folder / "model.onnx", vocab_size, task=task)


def build_random_qa_folder(folder: Path, seed: int = 0, max_seq_len: int = 48) -> Path:
    """A question-answering folder of a random 2-layer DistilBertForQuestionAnswering (dim 32)."""
    from transformers import DistilBertForQuestionAnswering

    folder = Path(folder)
    _export_random(folder, DistilBertForQuestionAnswering, "question-answering", QA_WORDS, seed)
    variants = {"fp32": _variant(folder, "model.onnx", "fp32", "random tiny test model")}
    _write_manifest(folder, "question-answering", max_seq_len, variants,
                    teacher="random tiny DistilBERT", student_layers=2)
    return folder


# The rule model of token classification: a token's tag logits are its row of this table (6.0 on the
# tag of the words below; every other token 5.0 on "O"), so the entities of a text are known.
TOKEN_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
TOKEN_TAGS = {"angela": "B-PER", "merkel": "I-PER", "ada": "B-PER", "paris": "B-LOC", "zurich": "B-LOC",
              "new": "B-LOC", "york": "I-LOC"}
TOKEN_WORDS = ["angela merkel visited paris ada lives in new york and zurich the city"]


def _tag_graph(path: Path, table) -> None:
    """logits = table[input_ids] x attention_mask: (batch, sequence, tags), built with onnx.helper."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    axes = ["batch", "sequence"]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, axes) for n in ("input_ids", "attention_mask")]
    output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [*axes, table.shape[1]])
    nodes = [
        helper.make_node("Cast", ["attention_mask"], ["mask_2d"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_2d", "last_axis"], ["mask"]),
        helper.make_node("Gather", ["table", "input_ids"], ["raw"], axis=0),
        helper.make_node("Mul", ["raw", "mask"], ["logits"]),
    ]
    constants = [numpy_helper.from_array(table, "table"),
                 numpy_helper.from_array(np.array([2], dtype=np.int64), "last_axis")]
    graph = helper.make_graph(nodes, "rule_tags", inputs, [output], initializer=constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def build_rule_token_folder(folder: Path, max_seq_len: int = 32, doc_stride: int | None = None) -> Path:
    """A token-classification folder whose tags follow TOKEN_TAGS (`doc_stride`: the manifest's)."""
    import numpy as np

    folder = Path(folder)
    vocab = write_tokenizer(folder, extra_texts=TOKEN_WORDS).get_vocab()
    table = np.zeros((max(vocab.values()) + 1, len(TOKEN_LABELS)), dtype=np.float32)
    table[:, 0] = 5.0
    for word, tag in TOKEN_TAGS.items():
        table[vocab[word]] = 0.0
        table[vocab[word], TOKEN_LABELS.index(tag)] = 6.0
    _tag_graph(folder / "model.onnx", table)
    variants = {"fp32": _variant(folder, "model.onnx", "fp32", "rule graph: tags by token id")}
    block = {"token_classification": {"label_scheme": "IOB2", "doc_stride": doc_stride}} if doc_stride is not None else {}
    _write_manifest(folder, "token-classification", max_seq_len, variants, labels=TOKEN_LABELS,
                    headline_metric="entity_f1", **block)
    return folder


def build_random_token_folder(folder: Path, seed: int = 0, max_seq_len: int = 48) -> Path:
    """A token-classification folder of a random 2-layer DistilBertForTokenClassification (dim 32)."""
    from transformers import DistilBertForTokenClassification

    folder = Path(folder)
    _export_random(folder, DistilBertForTokenClassification, "token-classification", TOKEN_WORDS, seed, TOKEN_LABELS)
    variants = {"fp32": _variant(folder, "model.onnx", "fp32", "random tiny test model")}
    _write_manifest(folder, "token-classification", max_seq_len, variants, labels=TOKEN_LABELS,
                    teacher="random tiny DistilBERT", student_layers=2, headline_metric="entity_f1",
                    token_classification={"label_scheme": "IOB2", "doc_stride": 8})
    return folder


EMBEDDING_WORDS = ["a man is playing a guitar someone plays an instrument the cat sits on mat dog runs"]
EMBEDDING_DIM = 32


def mean_pooled(encoder):
    """`encoder` (a transformers model with `last_hidden_state`) followed by the mean of its last
    hidden states over the real tokens (the attention mask) and L2 normalisation: a sentence
    embedding model, `forward(input_ids, attention_mask)` -> (batch, dim)."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            mean = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    return MeanPooled().eval()


def mean_pooled_encoder(vocab_size: int, seed: int = 0):
    """`mean_pooled` of a random 2-layer DistilBertModel (dim 32)."""
    import torch
    from transformers import DistilBertConfig, DistilBertModel

    torch.manual_seed(seed)
    config = DistilBertConfig(vocab_size=vocab_size, dim=EMBEDDING_DIM, n_layers=2, n_heads=2, hidden_dim=64,
                              max_position_embeddings=64)
    return mean_pooled(DistilBertModel(config))


def build_embedding_folder(folder: Path, seed: int = 0, max_seq_len: int = 32) -> Path:
    """A feature-extraction folder of `mean_pooled_encoder(seed)`, exported with torch.onnx."""
    folder = Path(folder)
    tokenizer = write_tokenizer(folder, extra_texts=EMBEDDING_WORDS)
    vocab_size = max(tokenizer.get_vocab().values()) + 1
    _export_onnx(mean_pooled_encoder(vocab_size, seed), folder / "model.onnx", vocab_size, task="feature-extraction")
    variants = {"fp32": _variant(folder, "model.onnx", "fp32", "random tiny test model")}
    _write_manifest(folder, "feature-extraction", max_seq_len, variants, teacher="random tiny DistilBERT",
                    student_layers=2, headline_metric="spearman",
                    embedding={"dimension": EMBEDDING_DIM, "pooling": "mean", "normalize": True})
    return folder


def build_embedding_repository(root: Path, classifier: Path) -> Path:
    """`embed` (a random mean-pooled DistilBERT, max_seq_len 32) and a copy of `classifier`."""
    root = Path(root)
    build_embedding_folder(root / "embed")
    shutil.copytree(classifier, root / classifier.name)
    return root


def build_qa_repository(root: Path, classifier: Path) -> Path:
    """`qa` (rule model), `qa-random` (random DistilBERT) and a copy of the `classifier` folder."""
    root = Path(root)
    build_rule_qa_folder(root / "qa")
    build_random_qa_folder(root / "qa-random")
    shutil.copytree(classifier, root / classifier.name)
    return root


def build_token_repository(root: Path, classifier: Path) -> Path:
    """`ner` (rule model, windows of 16 tokens sharing 4), `ner-random` (random DistilBERT) and a
    copy of the `classifier` folder."""
    root = Path(root)
    build_rule_token_folder(root / "ner", max_seq_len=16, doc_stride=4)
    build_random_token_folder(root / "ner-random")
    shutil.copytree(classifier, root / classifier.name)
    return root


def build_repository(root: Path) -> Path:
    """A model repository with `sentiment` (2 labels, fp32 + int8 copy) and `topic` (3 labels)."""
    root = Path(root)
    build_classifier_folder(root / "sentiment", SENTIMENT_LABELS, seed=0, with_int8_copy=True)
    build_classifier_folder(root / "topic", TOPIC_LABELS, seed=1)
    return root


PAIR_LABELS = ["entailment", "not_entailment"]


def build_pair_repository(root: Path) -> Path:
    """`nli` (a pair classifier), `similarity` (a pair regressor) and `single` (single texts)."""
    root = Path(root)
    build_classifier_folder(root / "nli", PAIR_LABELS, seed=2, pairs=True)
    build_classifier_folder(root / "similarity", [], seed=3, pairs=True)
    build_classifier_folder(root / "single", SENTIMENT_LABELS, seed=4)
    return root


def break_checksum(folder: Path) -> Path:
    """Make a folder's manifest disagree with its ONNX file (a corrupt download, say)."""
    path = Path(folder) / "manifest.json"
    raw = json.loads(path.read_text())
    raw["variants"]["fp32"]["sha256"] = "0" * 64
    path.write_text(json.dumps(raw))
    return Path(folder)
