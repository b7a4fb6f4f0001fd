"""Static INT8: weights and activation scales fixed in the graph, from calibration inputs.

Dynamic INT8 (`graph.quantize_int8`) picks each activation's scale from the whole batch tensor at
run time, so a row's answer moves with its batch neighbours (`modelfolder.batch_invariance`). Here
ONNX Runtime's static quantisation runs the fp32 graph on calibration batches, records every
quantised MatMul input's range, and writes those ranges into the graph as QuantizeLinear /
DequantizeLinear pairs (QDQ), which ONNX Runtime's CPU provider fuses into integer kernels. A row is
then computed from its own values alone.

- weights per output channel, int8; activations uint8 with a zero point (asymmetric: GELU outputs
  are mostly positive), the combination ONNX Runtime's x86 integer kernels are built for;
- only MatMul nodes that multiply by a weight are quantised; LayerNorm, softmax and GELU stay
  fp32, and the fused `Attention` node keeps its own fp32 projections;
- the activation range comes from `CalibrationSettings.method` (min-max, percentile or entropy,
  measured against each other in docs/RESULTS.md);
- `keep_fp32`: MatMul nodes left in fp32 by name (e.g. a head that loses too much).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from distill.export.inputs import pad_batch

METHODS = ("minmax", "percentile", "entropy")
CALIBRATION_BATCH = 16


@dataclass(frozen=True)
class CalibrationSettings:
    # how an activation's range is read off the calibration outputs. entropy: on the sentiment
    # student it tied min-max (both -0.34 point on SST-2 dev), on a WikiANN student it lost 2.0 entity
    # F1 points where min-max lost 3.3 (docs/RESULTS.md, "Static INT8: calibration method ...")
    method: str = "entropy"
    percentile: float = 99.999  # with method="percentile": the share of values the range covers
    max_examples: int = 256  # calibration inputs used (seeded sample)
    seed: int = 0
    keep_fp32: tuple[str, ...] = ()  # MatMul node names left unquantised


def calibration_batches(sequences: Sequence[Sequence[int]], pad_id: int, same_length: bool = False,
                        size: int = CALIBRATION_BATCH) -> list[dict[str, np.ndarray]]:
    """Batches of similar lengths (little padding in the recorded ranges); `same_length`: all of one
    shape, padded to the longest sequence, the shortest ones past whole batches left out (the
    histogram methods stack every batch's values into one array)."""
    ordered = sorted(sequences, key=len)
    length = len(ordered[-1]) if same_length else None
    if same_length and len(ordered) > size:
        ordered = ordered[len(ordered) % size:]  # the shortest ones
    chunks = [list(range(start, min(start + size, len(ordered)))) for start in range(0, len(ordered), size)]
    return [pad_batch([ordered[i] for i in rows], rows, pad_id, width=length).feeds() for rows in chunks]


def _reader(batches: Iterable[dict[str, np.ndarray]]):
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches = list(batches)
            self._next = iter(self._batches)

        def get_next(self):
            return next(self._next, None)

        def rewind(self) -> None:
            self._next = iter(self._batches)

    return Reader()


def _method(settings: CalibrationSettings):
    from onnxruntime.quantization import CalibrationMethod

    if settings.method not in METHODS:
        raise ValueError(f"unknown calibration method {settings.method!r} (known: {', '.join(METHODS)})")
    return {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
            "entropy": CalibrationMethod.Entropy}[settings.method]


def activation_products(path: Path) -> list[str]:
    """MatMul nodes that multiply two activations (attention scores and their weighted sum in an
    unfused graph): no weight to quantise, and fixed ranges for them cost accuracy."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    weights = {tensor.name for tensor in graph.initializer}
    return [node.name for node in graph.node
            if node.op_type == "MatMul" and not any(name in weights for name in node.input)]


def wide_input_matmuls(path: Path) -> list[str]:
    """MatMul nodes whose weight has more rows than columns: in a BERT-family graph the feed-forward
    down projections (intermediate -> hidden, whose input, the GELU output, carries the outlier values
    that one fixed uint8 range serves worst) and the small task head."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    shapes = {tensor.name: list(tensor.dims) for tensor in graph.initializer}
    return [node.name for node in graph.node if node.op_type == "MatMul"
            and any(len(shapes.get(name, [])) == 2 and shapes[name][0] > shapes[name][1] for name in node.input)]


def quantize_static_int8(source: Path, target: Path, sequences: Sequence[Sequence[int]], pad_id: int,
                         settings: CalibrationSettings) -> None:
    """Write `target`, the static INT8 graph of the fp32 graph `source`, calibrated on a seeded
    sample of `sequences` (token ids; at most `settings.max_examples`)."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not sequences:
        raise ValueError("static INT8 needs at least one calibration input")
    chosen = random.Random(settings.seed).sample(list(sequences), min(settings.max_examples, len(sequences)))
    batches = calibration_batches(chosen, pad_id, same_length=settings.method != "minmax")
    # The quantiser only quantises an activation whose type it knows, and ONNX's own shape inference
    # stops at the fused contrib ops (Attention, SkipLayerNormalization): without ONNX Runtime's
    # symbolic shape inference first, only the weights would be quantised.
    typed = target.with_name(f"{target.stem}.typed.onnx")
    quant_pre_process(str(source), str(typed), skip_optimization=True, auto_merge=True)
    extra = {"ActivationSymmetric": False, "WeightSymmetric": True, "DefaultTensorType": onnx.TensorProto.FLOAT}
    if settings.method == "percentile":
        extra["CalibPercentile"] = settings.percentile
    try:
        quantize_static(
            str(typed), str(target), _reader(batches), quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["MatMul"], per_channel=True, activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8, calibrate_method=_method(settings),
            nodes_to_exclude=[*activation_products(typed), *settings.keep_fp32], extra_options=extra,
        )
    finally:
        typed.unlink(missing_ok=True)
