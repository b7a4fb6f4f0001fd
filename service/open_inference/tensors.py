"""Input tensors and parameters: the protocol's tensor JSON checked and flattened into texts, and
the `parameters` read into a task's model, each problem a 422 naming the input ("inputs[0].shape",
"text[3]", "parameters.top_k")."""

from __future__ import annotations

import math
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from service.errors import InvalidInput
from service.open_inference.protocol import Parameters, RequestInput

T = TypeVar("T", bound=BaseModel)


def _flatten(data: list[Any]) -> list[Any]:
    """Row-major elements of nested lists (the protocol allows flat or nested data)."""
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
        elif isinstance(item, list):
            stack.append(iter(item))
        else:
            flat.append(item)
    return flat


_END = object()


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", field=field)


def text_elements(tensor: RequestInput, index: int) -> list[str]:
    """The texts of a BYTES input of shape [N] or [N, 1]."""
    where = f"inputs[{index}]"
    if tensor.datatype != "BYTES":
        raise _invalid(f"{where}.datatype", f"input {tensor.name!r} takes BYTES (UTF-8 text), not {tensor.datatype}")
    shape = tensor.shape
    if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
        raise _invalid(f"{where}.shape", f"{shape}: a text input has shape [N] or [N, 1]")
    elements = _flatten(tensor.data)
    if math.prod(shape) != len(elements):
        raise _invalid(f"{where}.data", f"{len(elements)} elements, but shape {shape} holds {math.prod(shape)}")
    for j, element in enumerate(elements):
        field = f"{tensor.name}[{j}]"
        if not isinstance(element, str):
            raise _invalid(field, f"a BYTES element is a JSON string, not {type(element).__name__}")
        try:
            element.encode("utf-8")
        except UnicodeEncodeError:
            raise _invalid(field, "not valid UTF-8 text (it holds a lone UTF-16 surrogate)") from None
    return elements



def parse_parameters(model: type[T], parameters: Parameters) -> T:
    """The request's `parameters` read into a task's parameter model; 422 naming the parameter."""
    try:
        return model.model_validate(parameters)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "parameters." + ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{field}: {first['msg']}", field=field) from None
