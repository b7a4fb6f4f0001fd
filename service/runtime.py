"""One loaded model: manifest, tokenizer and ONNX Runtime session.

Loading picks the variant and the execution providers; `run` pads a list of token-id sequences
into one tensor and calls the session. Nothing here touches asyncio: `service.batching` calls
`run` on the model's own worker thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from service.manifest import Manifest, ModelFolderError, Variant, load_model_folder
from service.priority import call_at_priority, task_nice
from service.settings import Settings
from service.shapes import bucket_length, bucket_size
from service.validation_sample import read_sample
from service.variant_check import VariantCheck, check_variant

log = logging.getLogger("service")

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def choose_providers(requested: list[str] | None, available: Sequence[str]) -> list[str]:
    """Requested providers that this onnxruntime build has; auto: CUDA when present, then CPU."""
    if requested:
        missing = [p for p in requested if p not in available]
        if missing:
            raise ModelFolderError(
                f"execution providers {missing} are not available (this build has {list(available)})"
            )
        return list(requested)
    return [CUDA, CPU] if CUDA in available else [CPU]


def _pending_check(variant: Variant) -> bool:
    """Not recommended only because the export could not run it (fp16 exported without a GPU)."""
    return not variant.recommended and variant.validation.status == "unvalidated"


def variant_candidates(manifest: Manifest, preference: str, provider: str, folder: Path,
                       check_unvalidated: bool = True) -> list[str]:
    """Variant keys to try, best first. auto: fp16 on CUDA, int8 on CPU, then fp32, skipping
    variants not recommended -- except, with `check_unvalidated`, those the export could not
    validate, which start-up checks against fp32 before using. An explicit choice: that variant."""
    variants = manifest.variants
    if preference != "auto":
        matches = [k for k, v in variants.items() if v.precision == preference or k == preference]
        if not matches:
            raise ModelFolderError(
                f"{folder}: no {preference!r} variant (has {sorted(variants)})"
            )
        return matches[:1]
    order = ["fp16", "fp32"] if provider == CUDA else ["int8", "fp32"]
    usable = [k for k, v in variants.items() if v.precision in order
              and (v.recommended or (check_unvalidated and _pending_check(v)))]
    # by precision, and within one precision the recommended ones before those still to be checked
    candidates = sorted(usable, key=lambda k: (order.index(variants[k].precision), not variants[k].recommended))
    if not candidates:
        raise ModelFolderError(
            f"{folder}: no recommended variant among {sorted(variants)} for {provider} "
            f"(looked for {' then '.join(order)})"
        )
    return candidates


def choose_variant(manifest: Manifest, preference: str, provider: str, folder: Path) -> str:
    """The first variant to try (see `variant_candidates`), without start-up checks."""
    return variant_candidates(manifest, preference, provider, folder, check_unvalidated=False)[0]


@dataclass
class ModelRuntime:
    """A model ready to run: tokenizers, ORT session, and what was chosen at load time."""

    name: str
    folder: Path
    manifest: Manifest
    variant: str
    provider: str
    session: ort.InferenceSession
    tokenizer: Tokenizer  # no truncation: tells the real length of a text
    truncating_tokenizer: Tokenizer  # truncates to max_seq_len, keeping special tokens
    pad_id: int
    sep_id: int | None = None  # separates question and context (token_type_ids of QA models)
    checks: dict[str, VariantCheck] = field(default_factory=dict)  # start-up checks, by variant
    fixed_shapes: bool = False  # pad batches to a few shapes (service.shapes): on CUDA

    @property
    def max_seq_len(self) -> int:
        return self.manifest.max_seq_len

    @property
    def task(self) -> str:
        return self.manifest.task

    def encode(self, texts: list, truncation: bool) -> list[Encoding]:
        """Encodings of texts (strings or (text, text_pair) tuples)."""
        tokenizer = self.truncating_tokenizer if truncation else self.tokenizer
        if len(texts) == 1:  # the batch call costs a single text more (its thread-pool set-up)
            text = texts[0]
            pair = isinstance(text, tuple)
            return [tokenizer.encode(text[0] if pair else text, text[1] if pair else None, add_special_tokens=True)]
        return tokenizer.encode_batch(texts, add_special_tokens=True)

    def encode_pairs(self, pairs: list[tuple[str, str]]) -> list[Encoding]:
        """Whole (untruncated) encodings of (question, context) pairs, special tokens included."""
        return self.tokenizer.encode_batch(pairs, add_special_tokens=True)

    def run(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        """Pad, stack and run. Returns the output for every sequence: (batch, labels) logits for a
        classifier; (batch, 2, length) start and end logits for question answering."""
        count, length = len(sequences), max(len(s) for s in sequences)
        rows = count
        if self.fixed_shapes:
            rows, length = bucket_size(count), bucket_length(length, self.max_seq_len)
        ids = np.full((rows, length), self.pad_id, dtype=np.int64)
        mask = np.zeros((rows, length), dtype=np.int64)
        for row in range(rows):  # rows past `count` repeat the first one; their outputs are dropped
            seq = sequences[row if row < count else 0]
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.manifest.inputs:
            pairs = self.task == "question-answering"
            feeds["token_type_ids"] = second_segment(ids, mask, self.sep_id) if pairs else np.zeros_like(ids)
        outputs = [np.asarray(o[:count], dtype=np.float32) for o in self.session.run(self.manifest.outputs, feeds)]
        return outputs[0] if len(outputs) == 1 else np.stack(outputs, axis=1)


PROBE_TOKEN = 999  # a token id unlikely to be special; clipped to the vocabulary


def probe_tokens(runtime: ModelRuntime, length: int, size: int = 1) -> list[list[int]]:
    """`size` sequences of `length` ordinary tokens, to try the graph on (capacity, warm-up)."""
    token = min(PROBE_TOKEN, runtime.tokenizer.get_vocab_size() - 1)
    return [[token] * length] * size


def _runs_at(runtime: ModelRuntime, length: int) -> Exception | None:
    try:
        runtime.run(probe_tokens(runtime, length))
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidArgument types
        return exc
    return None


def check_capacity(runtime: ModelRuntime) -> None:
    """Refuse a graph that cannot run at the manifest's max_seq_len (e.g. fewer position
    embeddings), naming the folder, both lengths and the error."""
    wanted = runtime.max_seq_len
    failure = _runs_at(runtime, wanted)
    if failure is None:
        return
    works, fails = 0, wanted  # bisect the longest input the graph accepts
    while fails - works > 1:
        middle = (works + fails) // 2
        works, fails = (middle, fails) if _runs_at(runtime, middle) is None else (works, middle)
    first_line = str(failure).strip().splitlines()[0] if str(failure).strip() else ""
    raise ModelFolderError(
        f"{runtime.folder}: {runtime.manifest.variants[runtime.variant].file} runs on at most {works} "
        f"tokens, but manifest.json says max_seq_len {wanted} ({type(failure).__name__}: {first_line[:300]})"
    )


def second_segment(ids: np.ndarray, mask: np.ndarray, sep_id: int | None) -> np.ndarray:
    """token_type_ids of [CLS] A [SEP] B [SEP] rows: 1 on B and its [SEP], 0 elsewhere (padding too)."""
    if sep_id is None:
        return np.zeros_like(ids)
    seps_before = np.cumsum(ids == sep_id, axis=1) - (ids == sep_id)
    return ((seps_before >= 1) & (mask == 1)).astype(np.int64)


def _load_tokenizers(folder: Path, manifest: Manifest) -> tuple[Tokenizer, Tokenizer, int]:
    path = folder / manifest.tokenizer
    try:
        plain = Tokenizer.from_file(str(path))
        truncating = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises bare Exception on a bad file
        raise ModelFolderError(f"{path}: cannot load tokenizer ({exc})") from exc
    padding = plain.padding
    pad_id = padding["pad_id"] if padding else plain.token_to_id("[PAD]")
    if pad_id is None:
        pad_id = plain.token_to_id("<pad>")
    plain.no_truncation()
    plain.no_padding()
    truncating.no_padding()
    truncating.enable_truncation(max_length=manifest.max_seq_len)
    return plain, truncating, pad_id if pad_id is not None else 0


def _session(path: Path, providers: list[str], threads: int, spin: bool) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    # Spinning worker threads would take CPU from the event loop that parses and tokenizes.
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... types
        raise ModelFolderError(f"{path}: onnxruntime cannot load it ({type(exc).__name__}: {exc})") from exc


def _check(runtime: ModelRuntime, reference_key: str | None, providers: list[str],
           settings: Settings) -> VariantCheck:
    """Run the folder's validation sample through `runtime` and through its fp32 variant."""
    base = dict(variant=runtime.variant, against=reference_key or "fp32", provider=runtime.provider)
    sequences = read_sample(runtime.folder, runtime.manifest)
    if sequences is None:
        return VariantCheck(status="skipped", note="the folder carries no validation sample "
                            "(exported by an older version: export it again to have one)", **base)
    if reference_key is None:
        return VariantCheck(status="skipped", note="the folder has no fp32 variant to compare with", **base)
    path = runtime.folder / runtime.manifest.variants[reference_key].file
    session = _session(path, providers, settings.intra_op_threads, settings.ort_spinning)
    reference = replace(runtime, variant=reference_key, session=session)
    sequences = [s[: runtime.max_seq_len] for s in sequences]
    return check_variant(runtime.variant, runtime.run, reference.run, sequences, runtime.task,
                         runtime.provider, against=reference_key)


def _fp32_key(manifest: Manifest) -> str | None:
    return next((k for k, v in manifest.variants.items() if v.precision == "fp32"), None)


def load_runtime(folder: Path, settings: Settings) -> ModelRuntime:
    """Check a model folder and build its runtime; raises ModelFolderError naming the problem.

    A variant the export could not validate is checked against fp32 on the folder's validation
    sample first (`service.variant_check`): auto moves on to the next candidate when it fails or
    cannot be checked; an explicitly requested variant that fails stops the load."""
    folder = Path(folder)
    manifest = load_model_folder(folder, verify_checksums=settings.verify_checksums)
    providers = choose_providers(settings.providers, ort.get_available_providers())
    candidates = variant_candidates(manifest, settings.variant, providers[0], folder, settings.check_unvalidated)
    plain, truncating, pad_id = _load_tokenizers(folder, manifest)
    checks: dict[str, VariantCheck] = {}
    for variant in candidates:
        path = folder / manifest.variants[variant].file
        session = call_at_priority(task_nice(settings, manifest.task), lambda: _session(
            path, providers, settings.intra_op_threads, settings.ort_spinning
        ))
        names = {i.name for i in session.get_inputs()}
        missing = [n for n in ("input_ids", "attention_mask") if n not in names]
        if missing:
            raise ModelFolderError(f"{folder}: ONNX graph lacks inputs {missing} (has {sorted(names)})")
        runtime = ModelRuntime(
            name=folder.name, folder=folder, manifest=manifest, variant=variant,
            provider=session.get_providers()[0], session=session, tokenizer=plain,
            truncating_tokenizer=truncating, pad_id=pad_id, sep_id=plain.token_to_id("[SEP]"), checks=checks,
            fixed_shapes=session.get_providers()[0] == CUDA,
        )
        check_capacity(runtime)
        if settings.check_unvalidated and _pending_check(manifest.variants[variant]):
            result = checks[variant] = _check(runtime, _fp32_key(manifest), providers, settings)
            log.info("%s: start-up check of %s against %s: %s (%s)", folder.name, variant, result.against,
                     result.status, result.note)
            if result.status != "passed":
                if settings.variant == "auto":
                    continue
                if result.status == "failed":
                    raise ModelFolderError(f"{folder}: variant {variant!r} failed its start-up check: {result.note}")
                log.warning("%s: using %s unchecked, as requested: %s", folder.name, variant, result.note)
        log.info("loaded %s: task=%s variant=%s provider=%s", folder.name, manifest.task, variant, runtime.provider)
        return runtime
    raise ModelFolderError(f"{folder}: no variant passed its start-up check ("
                           + "; ".join(f"{k}: {c.note}" for k, c in checks.items()) + ")")
