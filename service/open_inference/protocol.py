"""The JSON bodies of the Open Inference Protocol's REST API (health, metadata, inference)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from service.request_fields import Text

# Every datatype the protocol names; inputs of this service are BYTES (UTF-8 text).
Datatype = Literal["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
                   "FP16", "FP32", "FP64", "BYTES", "BF16"]
ParameterValue = StrictStr | StrictInt | StrictFloat | StrictBool
Parameters = dict[str, ParameterValue]
Dimension = Annotated[int, Field(ge=0)]


class ProtocolError(BaseModel):
    """The protocol's error body."""

    error: str


class Liveness(BaseModel):
    live: bool


class Readiness(BaseModel):
    ready: bool
    name: str | None = None


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class TensorMetadata(BaseModel):
    name: str
    datatype: Datatype
    shape: list[int] = Field(description="-1 marks a dimension of any size.")


class ModelMetadata(BaseModel):
    name: str
    versions: list[str] = Field(default_factory=list)
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]
    parameters: Parameters | None = None


class RequestInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1)
    shape: list[Dimension] = Field(min_length=1, description="[N] or [N, 1]: one element per text.")
    datatype: Datatype
    parameters: Parameters | None = None
    data: list[Any] = Field(description="The elements, flat or nested in row-major order; BYTES as strings.")


class RequestOutput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1)
    parameters: Parameters | None = Field(
        None, description="Accepted and ignored (e.g. binary_data: outputs always come as JSON).")


class InferenceRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{
            "inputs": [{"name": "text", "shape": [2], "datatype": "BYTES",
                        "data": ["a wonderful film", "a dull film"]}],
            "outputs": [{"name": "label"}, {"name": "score"}],
        }]},
    )

    id: Text | None = Field(None, description="Echoed in the response.")
    parameters: Parameters | None = Field(
        None, description="Classifiers: truncation (bool), function_to_apply (softmax, sigmoid, none). "
        "Question answering: max_answer_len, doc_stride, max_question_len (int), "
        "handle_impossible_answer (bool). Other names are ignored.",
    )
    inputs: list[RequestInput] = Field(min_length=1)
    outputs: list[RequestOutput] | None = Field(
        None, description="The outputs to return, in this order; left out: every output of the model.")


class ResponseOutput(BaseModel):
    name: str
    shape: list[int]
    datatype: Datatype
    parameters: Parameters | None = None
    data: list[Any]


class InferenceResponse(BaseModel):
    model_name: str
    model_version: str | None = None
    id: str | None = None
    parameters: Parameters | None = None
    outputs: list[ResponseOutput]
