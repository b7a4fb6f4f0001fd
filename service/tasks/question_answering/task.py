"""Extractive question answering, like `pipeline("question-answering")`: /v1/qa answers
`{answer, score, start, end}` per question (a list of them, best first, when top_k > 1), one entry
per pair when `inputs` is given; start/end are character offsets into the context. On /v2: inputs
`question` and `context`, outputs the best answer, its score, start and end per row."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelfolder.agreement import rule_for
from modelfolder.manifest import QUESTION_ANSWERING, Manifest
from service.batching.batcher import ItemResult
from service.errors import InvalidInput
from service.open_inference.protocol import Parameters
from service.open_inference.tensors import parse_parameters
from service.tasks.base import Answered, Call, Columns, Endpoint, Limit, OutputTensor, ServingTask, TaskTensors
from service.tasks.question_answering.pairs import Pair, answer_pairs, check_contexts, request_options, request_pairs
from service.tasks.question_answering.schemas import QARequest, QAResponse

QA = Endpoint(
    "/v1/qa", "question_answering", QARequest, QAResponse, summary="Answer questions with spans of their context",
    description="{answer, score, start, end} per question (a list of them, best first, when top_k > 1); "
    "one entry per pair when `inputs` is given. start/end are character offsets into the context.",
    tags=("question answering",),
    limits=(
        Limit("QARequest", "inputs", "array", "maxItems", "max_inputs"),
        Limit("QARequest", "context", "string", "maxLength", "qa_max_context_chars"),
        Limit("QAInput", "context", "string", "maxLength", "qa_max_context_chars"),
    ),
)


class QAParameters(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    top_k: Literal[1] = 1  # one answer per pair: the outputs have one row per input row
    max_answer_len: int | None = Field(None, ge=1)
    doc_stride: int | None = Field(None, ge=0)
    max_question_len: int | None = Field(None, ge=1)
    handle_impossible_answer: bool | None = None


class QuestionAnsweringTask(ServingTask):
    name = QUESTION_ANSWERING
    endpoints = (QA,)
    form = "qa"
    card_metrics = (("exact_match", "exact match"), ("f1", "F1"))
    agreement = rule_for(QUESTION_ANSWERING)
    segments = True  # token_type_ids 1 on the context of [CLS] question [SEP] context [SEP]

    async def answer(self, call: Call, body: QARequest) -> Answered:
        pairs, single = request_pairs(body, call.settings)
        options = request_options(body, call.runtime.manifest.qa)
        answers, results = await answer_pairs(call, pairs, options, "context" if single else "inputs")
        shaped = [a[0] if body.top_k == 1 else a for a in answers]
        return (shaped[0] if single else shaped), results

    def hub_body(self, inputs: Any, parameters: dict[str, Any], manifest: Manifest) -> dict[str, Any]:
        """{"inputs": {"question", "context"}}; of the pipeline's options beyond /v1/qa's,
        `align_to_words` (answers here always end on whole words) and `max_seq_len` (the model's
        window) are taken at the values this server uses."""
        options = dict(parameters)
        if options.pop("align_to_words", True) is not True:
            raise InvalidInput("parameters.align_to_words: answers here always end on whole words; send true "
                               "or leave it out", field="parameters.align_to_words")
        length = options.pop("max_seq_len", None)
        if length is not None and length != manifest.max_seq_len:
            raise InvalidInput(f"parameters.max_seq_len: the model's windows are {manifest.max_seq_len} tokens; "
                               "send that or leave it out", field="parameters.max_seq_len")
        pair = inputs if isinstance(inputs, dict) and set(inputs) == {"question", "context"} else None
        if pair is None:
            return {"inputs": inputs, "parameters": options}
        return {"question": pair["question"], "context": pair["context"], "parameters": options}

    def tensors(self, manifest: Manifest) -> TaskTensors:
        return TaskTensors(("question", "context"), (
            OutputTensor("answer", "BYTES", (-1,)), OutputTensor("score", "FP32", (-1,)),
            OutputTensor("start", "INT64", (-1,)), OutputTensor("end", "INT64", (-1,)),
        ))

    async def infer_v2(self, call: Call, texts: dict[str, list[str]], parameters: Parameters
                       ) -> tuple[Columns, list[ItemResult]]:
        options = request_options(parse_parameters(QAParameters, parameters), call.runtime.manifest.qa)
        questions, contexts = texts["question"], texts["context"]
        if len(questions) != len(contexts):
            raise InvalidInput(f"context: {len(contexts)} contexts for {len(questions)} questions", field="context")
        limit = call.settings.max_inputs
        if len(questions) > limit:
            raise InvalidInput(f"question: {len(questions)} questions, at most {limit} per request", field="question")
        pairs = [Pair(q, c, suffix=f"[{i}]") for i, (q, c) in enumerate(zip(questions, contexts))]
        check_contexts(pairs, call.settings)
        answers, results = await answer_pairs(call, pairs, options, "context")
        best = [a[0] for a in answers]
        n = len(pairs)
        return {
            "answer": ("BYTES", [n], [a["answer"] for a in best]),
            "score": ("FP32", [n], [a["score"] for a in best]),
            "start": ("INT64", [n], [a["start"] for a in best]),
            "end": ("INT64", [n], [a["end"] for a in best]),
        }, results

    def model_info(self, manifest: Manifest) -> dict[str, Any]:
        return {"qa": manifest.qa.model_dump() if manifest.qa is not None else None}
