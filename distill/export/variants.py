"""Building and validating the ONNX variants of a model folder, each against the PyTorch student.

- fp32 (`model.onnx`): traced, checked, graph-optimised with the BERT fusions, checked again.
- int8 (`model.int8.onnx`): static quantisation of the optimised graph, its activation ranges fixed
  from calibration inputs (`distill.export.static_int8`), so an answer does not depend on its batch;
- int8-dynamic (`model.int8-dynamic.onnx`): dynamic quantisation (activation scales taken from each
  batch at run time: answers move with their batch neighbours; kept for comparison, marked so);
  each INT8 variant's accuracy on the validation split is compared with fp32, and a drop beyond the
  tolerance is reported loudly.
- fp16 (`model.fp16.onnx`): for CUDA; validated only where CUDAExecutionProvider exists.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from distill.export import graph
from distill.export.inputs import Batch
from distill.export.parity import Comparison, Outputs, check, collect, compare
from distill.export.static_int8 import CalibrationSettings, quantize_static_int8, wide_input_matmuls
from modelfolder.variants import MAX_ABS_DIFF as FP16_MAX_ABS_DIFF

log = logging.getLogger(__name__)

FILES = {"fp32": "model.onnx", "int8": "model.int8.onnx", "int8-dynamic": "model.int8-dynamic.onnx",
         "fp16": "model.fp16.onnx"}
VARIANTS = tuple(FILES)  # fp32, int8, int8-dynamic, fp16
# what `distill import` writes unless told: no dynamic INT8, which a distilled student keeps only to be
# compared with static INT8 (its answers depend on the batch, so `serve` skips it unless told otherwise)
IMPORT_VARIANTS = tuple(v for v in VARIANTS if v != "int8-dynamic")
PRECISION = {"fp32": "fp32", "int8": "int8", "int8-dynamic": "int8", "fp16": "fp16"}
QUANTIZATION = {"int8": "static", "int8-dynamic": "dynamic"}
PROVIDERS = {
    "fp32": [graph.CPU, graph.CUDA],
    "int8": [graph.CPU],
    "int8-dynamic": [graph.CPU],
    "fp16": [graph.CUDA],
}


class AccuracyDropWarning(UserWarning):
    """A reduced-precision variant loses more of the task metric than allowed against fp32."""


@dataclass(frozen=True)
class VariantSettings:
    fp32_tolerance: float = 1e-4  # max |onnx - torch| over logits
    fp16_tolerance: float = FP16_MAX_ABS_DIFF  # fp16 logits are compared more loosely (as the service does)
    max_accuracy_drop: float = 0.01  # 1.0 point, for int8 and fp16 against fp32
    # per-channel weight scales for dynamic INT8: on the SQuAD student (1,871 validation questions)
    # per-tensor scales lost 4.7 F1 points against fp32 and per-channel ones 1.1, at the same latency
    int8_per_channel: bool = True
    calibration: CalibrationSettings = field(default_factory=CalibrationSettings)  # static INT8
    # static INT8 that loses more than max_accuracy_drop is tried again with the feed-forward down
    # projections in fp32 (when calibration.keep_fp32 names nothing)
    int8_fallback: bool = True


@dataclass
class BuiltVariant:
    """A variant file in the staging folder, what was measured, and how to run it."""

    name: str
    path: Path
    validation: dict[str, Any]
    outputs: Outputs | None = None
    session: Any = None
    recommended: bool = True
    fusions: dict[str, int] = field(default_factory=dict)
    calibration: dict[str, Any] | None = None  # static INT8: how its ranges were found
    batch_invariance: dict[str, Any] | None = None  # alone vs batched (`distill.export.batch_check`)
    traced: Path | None = None  # fp32: the graph as traced, before the fusions (static INT8 starts there)

    def manifest_entry(self) -> dict[str, Any]:
        from modelfolder.manifest import describe_file

        entry = {
            **describe_file(self.path.parent, self.path.name),
            "precision": PRECISION[self.name],
            "providers": PROVIDERS[self.name],
            "recommended": self.recommended,
            "validation": self.validation,
            "fusions": self.fusions,
            "quantization": QUANTIZATION.get(self.name),
            "calibration": self.calibration,
            "batch_invariance": self.batch_invariance,
        }
        return {key: value for key, value in entry.items() if value is not None}


@dataclass(frozen=True)
class Calibration:
    """The inputs static INT8 is calibrated on, and where they came from."""

    sequences: Sequence[Sequence[int]]
    pad_id: int
    source: str  # "training" (the student's calibration.jsonl) or "validation" (no such file)


@dataclass(frozen=True)
class Reference:
    """The PyTorch student and its outputs on the validation batches, as its task sees them: the
    graph's output names, how to run a session into one `Outputs` array (several outputs are
    packed into one), and the task's quality metrics, `metric` being the one the verdicts use."""

    model: Any
    batches: Sequence[Batch]
    outputs: Outputs
    output_names: tuple[str, ...]
    session_runner: Callable[[Any], Callable[[Batch], np.ndarray]]
    quality: Callable[[Outputs], dict[str, float]]
    metric: str


def _validated(ref: Reference, path: Path, providers: list[str], threads: int | None):
    session = graph.open_session(path, providers, threads)
    outputs = collect(ref.session_runner(session), ref.batches)
    comparison = compare(ref.outputs, outputs)
    log.info("%s on %s: max |onnx - torch| %.3g, label agreement %.4f over %d examples",
             path.name, providers[0], comparison.max_abs_diff, comparison.label_agreement,
             comparison.examples)
    return session, outputs, comparison


def _validation(comparison: Comparison, status: str, scores: dict[str, float], note: str | None = None,
                provider: str = graph.CPU):
    return {"status": status, **comparison.as_dict(), **{k: round(v, 6) for k, v in scores.items()},
            "note": note, "provider": provider}


def build_fp32(ref: Reference, folder: Path, sample: dict[str, np.ndarray], opset: int,
               heads: int, hidden: int, settings: VariantSettings,
               threads: int | None = None) -> BuiltVariant:
    """Trace, check, optimise, check again. Raises ParityError on either check."""
    raw = folder / "model.unoptimised.onnx"
    graph.export_torch(ref.model, raw, list(ref.output_names), sample, opset)
    _, _, traced = _validated(ref, raw, [graph.CPU], threads)
    check("fp32 (traced)", traced, settings.fp32_tolerance)
    path = folder / FILES["fp32"]
    fusions = graph.optimize_bert(raw, path, heads, hidden)
    log.info("fused operators: %s", fusions)
    session, outputs, optimised = _validated(ref, path, [graph.CPU], threads)
    check("fp32 (optimised)", optimised, settings.fp32_tolerance)
    validation = _validation(optimised, "passed", ref.quality(outputs))
    validation["traced_max_abs_diff"] = traced.max_abs_diff
    if not fusions.get("Attention"):
        validation["fusion_warning"] = missing_attention_fusion()
        log.warning(validation["fusion_warning"])
    return BuiltVariant("fp32", path, validation, outputs, session, True, fusions, traced=raw)


def missing_attention_fusion() -> str:
    import transformers

    return (f"ONNX Runtime did not fuse the attention (no `Attention` node) in the graph traced with transformers "
            f"{transformers.__version__}: the fp32 and INT8 graphs run unfused attention, slower on the CPU")


def _accuracy_verdict(name: str, acc: float, fp32_acc: float, settings: VariantSettings,
                     metric: str = "accuracy"):
    """(status, recommended, note) from the drop of `metric` (accuracy, or F1 for question
    answering) against fp32; warns on a large drop."""
    drop = fp32_acc - acc
    if drop <= settings.max_accuracy_drop:
        return "passed", True, f"{metric} {acc:.4f} vs fp32 {fp32_acc:.4f}"
    note = (f"{name} {metric} {acc:.4f} is {100 * drop:.2f} points below fp32 {fp32_acc:.4f} "
            f"(allowed {100 * settings.max_accuracy_drop:.2f}); not recommended")
    warnings.warn(note, AccuracyDropWarning, stacklevel=3)
    return "failed", False, note


def _int8_variant(name: str, path: Path, ref: Reference, fp32: BuiltVariant, settings: VariantSettings,
                  threads: int | None) -> BuiltVariant:
    """Run a quantised graph on the validation batches and judge it by the task metric against fp32."""
    session, outputs, comparison = _validated(ref, path, [graph.CPU], threads)
    scores = ref.quality(outputs)
    fp32_acc = fp32.validation[ref.metric]
    status, recommended, note = _accuracy_verdict(name, scores[ref.metric], fp32_acc, settings, ref.metric)
    validation = _validation(comparison, status, scores, note)
    validation[f"{ref.metric}_drop"] = round(fp32_acc - scores[ref.metric], 6)
    return BuiltVariant(name, path, validation, outputs, session, recommended)


def build_int8(ref: Reference, fp32: BuiltVariant, settings: VariantSettings, calibration: Calibration,
               threads: int | None = None) -> BuiltVariant:
    """Static INT8, calibrated on `calibration` (the student's training inputs where it has them).
    It starts from the traced graph, not the fused one: ONNX Runtime's fused `Attention` node has no
    static INT8 form, so in the fused graph the query/key/value projections would stay fp32 (on the
    default sentiment student, 0.90x dynamic INT8's throughput at batch 32 that way, 1.00x from the
    traced graph, where every weight MatMul is quantised; docs/RESULTS.md)."""
    path = fp32.path.parent / FILES["int8"]
    source = fp32.traced if fp32.traced is not None and fp32.traced.is_file() else fp32.path
    chosen = settings.calibration
    quantize_static_int8(source, path, calibration.sequences, calibration.pad_id, chosen)
    built = _int8_variant("int8", path, ref, fp32, settings, threads)
    if not built.recommended and settings.int8_fallback and not chosen.keep_fp32:
        built, chosen = _with_wide_inputs_fp32(built, source, ref, fp32, settings, calibration, threads)
    built.calibration = {"method": chosen.method, "inputs": min(len(calibration.sequences), chosen.max_examples),
                         "source": calibration.source, "kept_fp32": list(chosen.keep_fp32)}
    return built


def _with_wide_inputs_fp32(built: BuiltVariant, source: Path, ref: Reference, fp32: BuiltVariant,
                           settings: VariantSettings, calibration: Calibration, threads: int | None):
    """Static INT8 that lost too much, once more with the feed-forward down projections left in fp32
    (`wide_input_matmuls`; on all-MiniLM-L6-v2 imported, the mean cosine to fp32 went from 0.931 to
    0.991, docs/RESULTS.md); the better of the two (by the metric, then by the largest difference from
    fp32's outputs), and the calibration settings that made it."""
    retry = replace(settings.calibration, keep_fp32=tuple(wide_input_matmuls(source)))
    if not retry.keep_fp32:
        return built, settings.calibration
    trial = built.path.with_name(f"{built.path.stem}.retry.onnx")
    quantize_static_int8(source, trial, calibration.sequences, calibration.pad_id, retry)
    second = _int8_variant("int8", trial, ref, fp32, settings, threads)
    def closeness(variant: BuiltVariant) -> tuple[float, float]:  # the metric, then nearness to fp32's outputs
        return variant.validation[ref.metric], -variant.validation["max_abs_diff"]

    if closeness(second) <= closeness(built):
        trial.unlink(missing_ok=True)
        return built, settings.calibration
    log.info("static INT8 with %d feed-forward MatMuls in fp32: %s %.4f (all quantised: %.4f)",
             len(retry.keep_fp32), ref.metric, second.validation[ref.metric], built.validation[ref.metric])
    trial.replace(built.path)  # the session already holds the graph it loaded
    second.path = built.path
    return second, retry


def build_int8_dynamic(ref: Reference, fp32: BuiltVariant, settings: VariantSettings,
                       threads: int | None = None) -> BuiltVariant:
    """Dynamic INT8: activation scales from each batch at run time (answers depend on the batch)."""
    path = fp32.path.parent / FILES["int8-dynamic"]
    graph.quantize_int8(fp32.path, path, settings.int8_per_channel)
    return _int8_variant("int8-dynamic", path, ref, fp32, settings, threads)


def build_fp16(ref: Reference, fp32: BuiltVariant, settings: VariantSettings,
               threads: int | None = None) -> BuiltVariant:
    path = fp32.path.parent / FILES["fp16"]
    graph.convert_fp16(fp32.path, path)
    if not graph.cuda_available():
        return BuiltVariant("fp16", path, _cpu_smoke_check(ref, path, threads),
                            recommended=False)
    session, outputs, comparison = _validated(ref, path, [graph.CUDA], threads)
    scores = ref.quality(outputs)
    status, recommended, note = _accuracy_verdict("fp16", scores[ref.metric], fp32.validation[ref.metric],
                                                  settings, ref.metric)
    if comparison.max_abs_diff > settings.fp16_tolerance:
        status, recommended = "failed", False
        note = f"max |fp16 - torch| {comparison.max_abs_diff:.3g} > {settings.fp16_tolerance}"
    validation = _validation(comparison, status, scores, note, graph.CUDA)
    return BuiltVariant("fp16", path, validation, outputs, session, recommended)


def _cpu_smoke_check(ref: Reference, path: Path, threads: int | None) -> dict[str, Any]:
    """Without CUDA the fp16 file stays unvalidated; running it on the CPU provider (which casts
    around the ops it lacks in fp16) still shows that the graph loads and computes sensibly."""
    note = "CUDAExecutionProvider not available where the export ran; fp16 not run on CUDA"
    try:
        _, _, cpu = _validated(ref, path, [graph.CPU], threads)
    except Exception as exc:  # onnxruntime raises its own Fail/NotImplemented types
        return {"status": "unvalidated", "note": f"{note}; it did not run on CPU either ({exc})"}
    note += (f"; as a smoke test on the CPU provider: max |fp16 - torch| "
             f"{cpu.max_abs_diff:.3g}, label agreement {cpu.label_agreement:.2%}")
    return {"status": "unvalidated", "note": note, "cpu_max_abs_diff": cpu.max_abs_diff,
            "cpu_label_agreement": cpu.label_agreement, "cpu_examples": cpu.examples}
