"""Building and validating the ONNX variants of a model folder, each against the PyTorch student.

- fp32 (`model.onnx`): traced, checked, graph-optimised with the BERT fusions, checked again.
- int8 (`model.int8.onnx`): dynamic quantisation of the optimised graph; its accuracy on the
  validation split is compared with fp32, and a drop beyond the tolerance is reported loudly.
- fp16 (`model.fp16.onnx`): for CUDA; validated only where CUDAExecutionProvider exists.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from distill.export import graph
from distill.export.inputs import Batch
from distill.export.parity import Comparison, Outputs, check, collect, compare
from modelfolder.variants import MAX_ABS_DIFF as FP16_MAX_ABS_DIFF

log = logging.getLogger(__name__)

FILES = {"fp32": "model.onnx", "int8": "model.int8.onnx", "fp16": "model.fp16.onnx"}
VARIANTS = tuple(FILES)  # fp32, int8, fp16
PROVIDERS = {
    "fp32": [graph.CPU, graph.CUDA],
    "int8": [graph.CPU],
    "fp16": [graph.CUDA],
}


class AccuracyDropWarning(UserWarning):
    """A reduced-precision variant loses more of the task metric than allowed against fp32."""


@dataclass(frozen=True)
class VariantSettings:
    fp32_tolerance: float = 1e-4  # max |onnx - torch| over logits
    fp16_tolerance: float = FP16_MAX_ABS_DIFF  # fp16 logits are compared more loosely (as the service does)
    max_accuracy_drop: float = 0.01  # 1.0 point, for int8 and fp16 against fp32
    # per-channel weight scales for INT8: on the SQuAD student (1,871 validation questions) per-tensor
    # scales lost 4.7 F1 points against fp32 and per-channel ones 1.1, at the same latency
    int8_per_channel: bool = True


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

    def manifest_entry(self) -> dict[str, Any]:
        from modelfolder.manifest import describe_file

        return {
            **describe_file(self.path.parent, self.path.name),
            "precision": self.name,
            "providers": PROVIDERS[self.name],
            "recommended": self.recommended,
            "validation": self.validation,
            "fusions": self.fusions,
        }


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
    raw.unlink()
    session, outputs, optimised = _validated(ref, path, [graph.CPU], threads)
    check("fp32 (optimised)", optimised, settings.fp32_tolerance)
    validation = _validation(optimised, "passed", ref.quality(outputs))
    validation["traced_max_abs_diff"] = traced.max_abs_diff
    if not fusions.get("Attention"):
        validation["fusion_warning"] = missing_attention_fusion()
        log.warning(validation["fusion_warning"])
    return BuiltVariant("fp32", path, validation, outputs, session, True, fusions)


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


def build_int8(ref: Reference, fp32: BuiltVariant, settings: VariantSettings,
               threads: int | None = None) -> BuiltVariant:
    path = fp32.path.parent / FILES["int8"]
    graph.quantize_int8(fp32.path, path, settings.int8_per_channel)
    session, outputs, comparison = _validated(ref, path, [graph.CPU], threads)
    scores = ref.quality(outputs)
    fp32_acc = fp32.validation[ref.metric]
    status, recommended, note = _accuracy_verdict("int8", scores[ref.metric], fp32_acc, settings, ref.metric)
    validation = _validation(comparison, status, scores, note)
    validation[f"{ref.metric}_drop"] = round(fp32_acc - scores[ref.metric], 6)
    return BuiltVariant("int8", path, validation, outputs, session, recommended)


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
