"""Graph-level steps of the export: PyTorch -> ONNX, transformer fusions, INT8, fp16, sessions.

Each function reads one file and writes another, so the orchestration in `distill.folder_export` can
check every intermediate graph against the PyTorch model before going on.

Tooling choice: optimum's ONNX exporter now lives in `optimum-onnx`, whose newest release pins
`transformers<4.58`; this project runs transformers 5.x, so the exporter here is
`torch.onnx.export` (the TorchScript-based path, `dynamo=False`, with `dynamic_axes`), followed by
ONNX Runtime's own tools: `onnxruntime.transformers.optimizer` for the BERT fusions,
`onnxruntime.quantization.quantize_dynamic` for INT8 and `onnxruntime.transformers.float16` for
fp16. The TorchScript path handles this encoder's data-dependent mask code with plain dynamic axes
and is far quicker than the dynamo exporter on small models.

Parity note: the model must be in eval mode both when traced and when used as the reference. A
freshly constructed transformers model is in training mode; tracing exports eval behaviour, so a
reference run with dropout active differs by ~1e-2 in logits. In eval mode the traced graph
matches PyTorch to ~1e-6 with either attention implementation.
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any

import numpy as np

INPUT_NAMES = ("input_ids", "attention_mask")
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
PER_TEXT_OUTPUTS = ("logits", "embedding")  # [batch, ...] with no sequence axis (classes, embedding dims)


def _wrapper(model: Any, output_names: list[str]) -> Any:
    """A module that takes positional (input_ids, attention_mask) and returns plain tensors."""
    import torch

    class _Outputs(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=True)
            values = tuple(out[name] for name in output_names)
            return values[0] if len(values) == 1 else values

    return _Outputs().eval()


def export_torch(
    model: Any, path: Path, output_names: list[str], sample: dict[str, np.ndarray], opset: int
) -> None:
    """Trace `model` (eval mode) into an ONNX file with dynamic batch and sequence axes.

    `sample` should be a padded batch (some zeros in the mask) so nothing is specialised to an
    all-ones mask; the axes stay symbolic either way.
    """
    import torch

    if model.training:
        raise ValueError("export_torch needs a model in eval mode (dropout would be traced)")
    wrapper = _wrapper(model, output_names)
    args = tuple(torch.from_numpy(sample[name]) for name in INPUT_NAMES)
    axes: dict[str, dict[int, str]] = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    for name in output_names:
        axes[name] = {0: "batch"} if name in PER_TEXT_OUTPUTS else {0: "batch", 1: "sequence"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
        # Raised for the mask indexing; the parity check that follows covers it.
        warnings.filterwarnings("ignore", message="Exporting aten::index operator")
        torch.onnx.export(
            wrapper,
            args,
            str(path),
            input_names=list(INPUT_NAMES),
            output_names=list(output_names),
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )


def optimize_bert(source: Path, target: Path, num_heads: int, hidden_size: int) -> dict[str, int]:
    """Apply ONNX Runtime's BERT fusions (CPU-safe graph) and return the fused-op counts > 0."""
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(
        str(source), model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=0
    )
    optimized.save_model_to_file(str(target))
    counts = optimized.get_fused_operator_statistics()
    return {op: int(n) for op, n in sorted(counts.items()) if n}


def quantize_int8(source: Path, target: Path, per_channel: bool = False) -> None:
    """Dynamic INT8 quantisation of the weights (activations quantised at run time), for CPU.
    `per_channel` gives each output channel its own weight scale (slower to build, often closer)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Fused contrib ops (Attention, SkipLayerNormalization) defeat ONNX shape inference; their
    # outputs are float tensors.
    quantize_dynamic(
        str(source), str(target), weight_type=QuantType.QInt8, per_channel=per_channel,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def convert_fp16(source: Path, target: Path) -> None:
    """fp16 weights and compute for CUDA; int64 inputs and float32 outputs stay as they are."""
    import onnx
    from onnxruntime.transformers.onnx_model import OnnxModel

    model = OnnxModel(onnx.load(str(source)))
    model.convert_float_to_float16(keep_io_types=True)
    model.save_model_to_file(str(target))


def cuda_available() -> bool:
    import onnxruntime as ort

    return CUDA in ort.get_available_providers()


def open_session(path: Path, providers: list[str], threads: int | None = None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=providers)


def ort_runner(session: Any, output: str):
    """A callable running an ONNX Runtime session on a `Batch`, returning one output."""
    return lambda batch: session.run([output], batch.feeds())[0]


def torch_runner(model: Any, output: str):
    """A callable running a PyTorch model (eval mode, no grad) on a `Batch`, returning one output;
    a model that takes token types gets the batch's segments of text pairs when it has them."""
    import torch

    takes_types = "token_type_ids" in inspect.signature(model.forward).parameters

    def run(batch) -> np.ndarray:
        feeds = {"input_ids": torch.from_numpy(batch.input_ids),
                 "attention_mask": torch.from_numpy(batch.attention_mask)}
        segments = getattr(batch, "token_type_ids", None)
        if takes_types and segments is not None:  # a BERT teacher on text pairs
            feeds["token_type_ids"] = torch.from_numpy(segments)
        with torch.inference_mode():
            out = model(**feeds)
        return out[output].float().numpy()

    return run
