"""Device placement as a tested property: every module call must see its own parameters and every
tensor it is given on one device (the expected one when named). On a machine without a GPU the
`meta` device stands in for the accelerator a trainer moves models to: mixing it with `cpu` fails
the way `cuda` and `cpu` do."""

from __future__ import annotations

import contextlib

import torch

# parametrise device tests over this: CUDA where it exists, else the stand-in
ACCELERATORS = ["cuda"] if torch.cuda.is_available() else ["meta"]


def without_mask_shortcut(monkeypatch) -> None:
    """transformers skips the attention mask when it holds no padding, which it learns by reading the
    mask's values; meta tensors hold none, so on `meta` the mask is always built."""
    from transformers import masking_utils

    monkeypatch.setattr(masking_utils, "_ignore_bidirectional_mask_sdpa", lambda *args, **kwargs: False)


def _tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _is(device: torch.device, expected: torch.device) -> bool:
    """`device` is `expected`; an expected device without an index ("cuda") means any of its type,
    as `model.to("cuda")` places tensors on "cuda:0"."""
    return device.type == expected.type and (expected.index is None or device.index == expected.index)


@contextlib.contextmanager
def one_device(*models: torch.nn.Module, expected: torch.device | str | None = None):
    """Within the block, a call of any module of `models` whose inputs and own weights are not all on
    one device (or not on `expected`) fails with the module's name and the devices it saw; yields
    the list of module calls checked."""
    checked: list[str] = []
    handles = []

    def hook_for(name: str):
        def check(module, args, kwargs):
            own = [*module.parameters(recurse=False), *module.buffers(recurse=False)]
            devices = {t.device for t in [*_tensors(args), *_tensors(kwargs), *own]}
            if len(devices) > 1 or (expected is not None and not all(_is(d, torch.device(expected)) for d in devices)):
                raise AssertionError(f"{name or type(module).__name__} called with tensors on "
                                     f"{sorted(map(str, devices))}" + (f", expected {expected}" if expected is not None else ""))
            checked.append(name)
        return check

    for model in models:
        for name, module in model.named_modules():
            handles.append(module.register_forward_pre_hook(hook_for(name), with_kwargs=True))
    try:
        yield checked
    finally:
        for handle in handles:
            handle.remove()
