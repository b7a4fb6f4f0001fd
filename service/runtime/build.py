"""Building a `ModelRuntime` (`service.runtime.model`) from a model folder whose manifest has been
read: the execution providers and the variant chosen, tokenizers and ONNX Runtime session built,
the graph's capacity and (for a variant the export could not validate) its agreement with fp32
checked. What the model's task decides -- its agreement rule and whether token_type_ids mark a
second segment -- is handed in (`service.serving.loading` looks the task up).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import onnxruntime as ort
from tokenizers import Tokenizer

from modelfolder.batch_invariance import BATCH_TOLERANCE, check_batch_invariance
from modelfolder.manifest import Manifest, ModelFolderError, Variant
from modelfolder.sample import read_sample
from modelfolder.variants import AgreementRule, VariantCheck, check_variant
from service.batching.priority import call_at_priority, task_nice
from service.providers import CUDA, choose_providers
from service.runtime.model import ModelRuntime, check_capacity
from service.settings import Settings

log = logging.getLogger("service")


def _pending_check(variant: Variant) -> bool:
    """Not recommended only because the export could not run it (fp16 exported without a GPU)."""
    return not variant.recommended and variant.validation.status == "unvalidated"


def variant_candidates(manifest: Manifest, preference: str, provider: str, folder: Path,
                       check_unvalidated: bool = True, accept_batch_dependent: bool = False) -> list[str]:
    """Variant keys to try, best first. auto: fp16 on CUDA, int8 on CPU, then fp32, skipping
    variants not recommended -- except, with `check_unvalidated`, those the export could not
    validate, which start-up checks against fp32 before using -- and, unless
    `accept_batch_dependent`, those whose answers are known to depend on the batch (dynamic INT8).
    An explicit choice: that variant."""
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
              and (v.recommended or (check_unvalidated and _pending_check(v)))
              and (accept_batch_dependent or not v.batch_dependent)]
    # by precision; within one precision the same answer in any batch first, then the recommended
    # ones before those still to be checked
    candidates = sorted(usable, key=lambda k: (order.index(variants[k].precision), variants[k].batch_dependent,
                                               not variants[k].recommended))
    if not candidates:
        raise ModelFolderError(
            f"{folder}: no recommended variant among {sorted(variants)} for {provider} "
            f"(looked for {' then '.join(order)})"
        )
    return candidates


def choose_variant(manifest: Manifest, preference: str, provider: str, folder: Path) -> str:
    """The first variant to try (see `variant_candidates`), without start-up checks."""
    return variant_candidates(manifest, preference, provider, folder, check_unvalidated=False)[0]


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


NO_SAMPLE = "the folder carries no validation sample (exported by an older version: export it again to have one)"


def _sample(folder: Path, manifest: Manifest) -> list[list[int]] | None:
    """The folder's validation sample, each sequence cut to the manifest's max_seq_len; None without one."""
    sequences = read_sample(folder, manifest)
    return None if sequences is None else [s[: manifest.max_seq_len] for s in sequences]


def _check(runtime: ModelRuntime, reference_key: str | None, providers: list[str], settings: Settings,
           rule: AgreementRule, sequences: list[list[int]] | None) -> VariantCheck:
    """Run the folder's validation sample through `runtime` and through its fp32 variant."""
    base = dict(variant=runtime.variant, against=reference_key or "fp32", provider=runtime.provider)
    if sequences is None:
        return VariantCheck(status="skipped", note=NO_SAMPLE, **base)
    if reference_key is None:
        return VariantCheck(status="skipped", note="the folder has no fp32 variant to compare with", **base)
    path = runtime.folder / runtime.manifest.variants[reference_key].file
    session = _session(path, providers, settings.intra_op_threads, settings.ort_spinning)
    reference = replace(runtime, variant=reference_key, session=session)
    return check_variant(runtime.variant, runtime.run, reference.run, sequences, rule, runtime.provider,
                         against=reference_key)


BATCH_CHECK = "alone vs batched"  # the key suffix of a variant's batch-invariance check in `checks`


def _batch_check(runtime: ModelRuntime, rule: AgreementRule, sequences: list[list[int]] | None) -> VariantCheck:
    """The folder's validation sample through `runtime` alone and batched (`modelfolder.batch_invariance`),
    within the tolerance the export recorded for the variant."""
    base = dict(variant=runtime.variant, against="alone", provider=runtime.provider)
    if sequences is None:
        return VariantCheck(status="skipped", note=NO_SAMPLE, **base)
    recorded = runtime.manifest.variants[runtime.variant].batch_invariance
    tolerance = recorded.tolerance if recorded is not None else BATCH_TOLERANCE
    result = check_batch_invariance(runtime.run, sequences, rule, tolerance)
    return VariantCheck(status=result.status, examples=result.examples, max_abs_diff=round(result.max_abs_diff, 8),
                        note=result.note, **base)


def _fp32_key(manifest: Manifest) -> str | None:
    return next((k for k, v in manifest.variants.items() if v.precision == "fp32"), None)


def _require_inputs(folder: Path, session: ort.InferenceSession) -> None:
    names = {i.name for i in session.get_inputs()}
    missing = [n for n in ("input_ids", "attention_mask") if n not in names]
    if missing:
        raise ModelFolderError(f"{folder}: ONNX graph lacks inputs {missing} (has {sorted(names)})")


def build_runtime(folder: Path, manifest: Manifest, settings: Settings, agreement: AgreementRule,
                  segments: bool) -> ModelRuntime:
    """The runtime of a checked model folder; raises ModelFolderError naming the problem.
    `agreement` and `segments`: the model's serving task's (`ServingTask`).

    A variant the export could not validate is checked against fp32 on the folder's validation
    sample first (`modelfolder.variants`): auto moves on to the next candidate when it fails or
    cannot be checked; an explicitly requested variant that fails stops the load. Every variant
    about to be served is then checked alone vs batched on the same sample
    (`modelfolder.batch_invariance`); one whose answers depend on the batch is treated the same
    way unless the settings accept batch-dependent answers."""
    providers = choose_providers(settings.providers, ort.get_available_providers())
    candidates = variant_candidates(manifest, settings.variant, providers[0], folder, settings.check_unvalidated,
                                    settings.accept_batch_dependent)
    plain, truncating, pad_id = _load_tokenizers(folder, manifest)
    sample = _sample(folder, manifest)
    checks: dict[str, VariantCheck] = {}
    for variant in candidates:
        path = folder / manifest.variants[variant].file
        session = call_at_priority(task_nice(settings, manifest.task), lambda: _session(
            path, providers, settings.intra_op_threads, settings.ort_spinning
        ))
        _require_inputs(folder, session)
        runtime = ModelRuntime(
            name=folder.name, folder=folder, manifest=manifest, variant=variant,
            provider=session.get_providers()[0], session=session, tokenizer=plain,
            truncating_tokenizer=truncating, pad_id=pad_id, sep_id=plain.token_to_id("[SEP]"), checks=checks,
            fixed_shapes=session.get_providers()[0] == CUDA, second_segment=segments,
        )
        check_capacity(runtime)
        if settings.check_unvalidated and _pending_check(manifest.variants[variant]):
            result = checks[variant] = _check(runtime, _fp32_key(manifest), providers, settings, agreement, sample)
            log.info("%s: start-up check of %s against %s: %s (%s)", folder.name, variant, result.against,
                     result.status, result.note)
            if result.status != "passed":
                if settings.variant == "auto":
                    continue
                if result.status == "failed":
                    raise ModelFolderError(f"{folder}: variant {variant!r} failed its start-up check: {result.note}")
                log.warning("%s: using %s unchecked, as requested: %s", folder.name, variant, result.note)
        batched = checks[f"{variant} {BATCH_CHECK}"] = _batch_check(runtime, agreement, sample)
        if batched.status == "failed" and not settings.accept_batch_dependent:
            if settings.variant == "auto":
                log.warning("%s: not serving %s: %s", folder.name, variant, batched.note)
                continue
            raise ModelFolderError(f"{folder}: variant {variant!r} {batched.note}; pass --accept-batch-dependent "
                                   "to serve it anyway")
        log.info("loaded %s: task=%s variant=%s provider=%s", folder.name, manifest.task, variant, runtime.provider)
        return runtime
    raise ModelFolderError(f"{folder}: no variant passed its start-up check ("
                           + "; ".join(f"{k}: {c.note}" for k, c in checks.items()) + ")")


def build_front(folder: Path, manifest: Manifest, variant: str, provider: str, fixed_shapes: bool,
                checks: dict[str, VariantCheck], segments: bool) -> ModelRuntime:
    """The runtime of an HTTP worker whose models run in the model process: the manifest and
    tokenizers of the folder, and what the model process chose (variant, provider, checks), but
    no session."""
    plain, truncating, pad_id = _load_tokenizers(folder, manifest)
    return ModelRuntime(
        name=folder.name, folder=folder, manifest=manifest, variant=variant, provider=provider,
        session=None, tokenizer=plain, truncating_tokenizer=truncating, pad_id=pad_id,
        sep_id=plain.token_to_id("[SEP]"), checks=checks, fixed_shapes=fixed_shapes,
        second_segment=segments,
    )
