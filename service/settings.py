"""Service configuration: environment variables (prefix `SERVE_`) and command-line flags.

`Settings` is built once in `service.main.main()` and passed down; nothing reads it at import time.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

VariantChoice = Literal["auto", "fp32", "int8", "int8-dynamic", "fp16"]


class Settings(BaseSettings):
    """Every knob of the server. CLI flags use kebab case (`--max-wait-ms`); environment
    variables the `SERVE_` prefix and upper case (`SERVE_MAX_WAIT_MS`)."""

    model_config = SettingsConfigDict(env_prefix="SERVE_", extra="ignore", validate_default=True)

    # network
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port to listen on.")
    workers: int = Field(
        0, ge=0,
        description="HTTP worker processes sharing the port (0, auto: one per core the process may "
        "use). With more than one, the models run in one model process behind them (one copy of "
        "each model, one scheduler over every worker's requests) and the workers parse, validate "
        "and tokenize in parallel.",
    )
    ipc_buffer_mb: int = Field(
        2, ge=1, le=1024,
        description="Size in MiB of each of the two shared-memory rings between an HTTP worker and "
        "the model process (requests in, outputs out); /dev/shm needs 2 x this x workers.",
    )
    model_process_restarts: int = Field(
        5, ge=0,
        description="With more than one worker: how many times a model process that died (killed, "
        "crashed, out of memory) is started again within --model-process-restart-window-s, its "
        "models loaded, checked and warmed up as at start (the waiting requests get 503 with "
        "Retry-After, /readyz 503 meanwhile). One death more, or 0, and `serve` exits with status 3.",
    )
    model_process_restart_window_s: float = Field(
        300.0, gt=0, description="The window in seconds over which --model-process-restarts counts."
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        "info", description="Log level of the server."
    )

    # models
    model_repository: Path = Field(
        Path("models"), description="Directory holding one sub-folder per model (manifest.json inside)."
    )
    models: Annotated[list[str] | None, NoDecode] = Field(
        None, description="Names (sub-folder names) of the models to load, comma separated; default: every folder."
    )
    model_id: Annotated[list[str] | None, NoDecode] = Field(
        None,
        description="A Hugging Face checkpoint to serve, as ID or ID=NAME (repeat the flag, or comma "
        "separate): a hub id, a save_pretrained or sentence-transformers directory, or minilm (the "
        "built-in teacher). Before the models load, each is imported into the model repository as "
        "NAME (default: the id's last part) with `distill import`; a later start keeps that folder "
        "while the source is unchanged and imports again when it changed. Needs the distill extra.",
    )
    variant: VariantChoice = Field(
        "auto",
        description="ONNX variant to run. auto: fp16 on CUDA, int8 on CPU, fp32 as the fallback; "
        "variants marked recommended=false, and variants whose answers depend on the batch (dynamic "
        "INT8), are skipped by auto. int8-dynamic: the dynamically quantised variant (needs "
        "--accept-batch-dependent).",
    )
    providers: Annotated[list[str] | None, NoDecode] = Field(
        None,
        description="ONNX Runtime execution providers in order of preference, comma separated; default (auto): "
        "CUDAExecutionProvider when available, then CPUExecutionProvider.",
    )
    intra_op_threads: int = Field(0, ge=0, description="ONNX Runtime intra-op threads (0: its default).")
    model_runners: int = Field(
        0, ge=0,
        description="Batches of one model that run at once, each on its own thread (0, auto: on a "
        "CPU one per core, each with one ONNX Runtime thread unless --intra-op-threads is set; on "
        "CUDA one).",
    )
    ort_spinning: bool = Field(
        False,
        description="Let idle ONNX Runtime threads spin (lower latency on dedicated cores; steals "
        "CPU from the HTTP event loop when cores are shared).",
    )
    check_unvalidated: bool = Field(
        True,
        description="At start-up, check a variant the export could not validate (fp16 exported "
        "without a GPU) against fp32 on the folder's validation sample, and use it only when it "
        "passes (reported in /v1/models). Off: auto skips such variants.",
    )
    accept_batch_dependent: bool = Field(
        False,
        description="Serve a variant whose answers depend on what else is in the batch: dynamic INT8, "
        "or any variant that fails the start-up check of the validation sample alone vs batched "
        "(so the same text may get another label or score under another load). Off: auto moves on to "
        "the next variant and an explicitly requested one stops the start with the largest difference.",
    )
    verify_checksums: bool = Field(True, description="Check the sha256 of every model file at start-up.")
    skip_bad_models: bool = Field(
        False, description="Skip model folders that fail to load (reported in /v1/models) instead of exiting."
    )
    sentiment_model: str = Field("sentiment", description="Model answering /v1/sentiment.")
    default_model: str | None = Field(
        None, description="Model answering text-embeddings-inference's routes at the root (POST /embed, "
        "/predict, /similarity, ..., GET /info, POST /); default: the only model, when one is loaded. "
        "Every model has them under /models/NAME/ too.",
    )
    warmup_batches: int = Field(2, ge=0, description="Warm-up batches per sequence length before ready.")

    # dynamic batching (left out: the default of the model's execution provider, see
    # service/batching/limits.py)
    max_batch_items: int | None = Field(
        None, ge=1, description="Most items (texts, QA windows) in one model call "
        "(default: 32 on CPU, 128 on CUDA).",
    )
    max_batch_tokens: int | None = Field(
        None, ge=1, description="Most padded tokens (longest item x items) in one model call "
        "(default: 8192 on CPU, 32768 on CUDA).",
    )
    max_batch_padding: float | None = Field(
        None, ge=0, le=1,
        description="Highest share of padding tokens in a batch: items that would pad it more wait "
        "for the next batch (lower pads less, which pays on CPU; 1 turns it off; default: 0.2 on "
        "CPU, 1 on CUDA, where larger batches matter more than padding).",
    )
    max_wait_ms: float | None = Field(
        None, ge=0, description="Longest wait after the first pending item before a partial batch "
        "runs (default: 0 on CPU, where batches gather while the runners are busy; 2 on CUDA).",
    )
    queue_limit: int = Field(1024, ge=1, description="Most pending items per model; beyond it: 429.")
    request_timeout_s: float = Field(
        30.0, gt=0, description="Deadline of a request from arrival; past it: 504."
    )

    preprocessing_threads: int = Field(
        1, ge=1,
        description="Threads that tokenize long inputs (QA contexts, long texts) and decode QA "
        "spans, so that the event loop keeps answering other requests meanwhile.",
    )

    low_priority_tasks: Annotated[list[str] | None, NoDecode] = Field(
        ["question-answering"],
        description="Tasks whose model threads (and the preprocessing threads) run at a lower CPU "
        "priority, comma separated: their long inputs are throughput work, and short requests of "
        "other models then keep their latency. Empty: none.",
    )
    low_priority_nice: int = Field(
        10, ge=0, le=19, description="The niceness (Linux) of those threads; 0 turns it off."
    )

    # limits and access
    api_key: str | None = Field(
        None, description="When set, /v1/* requires the header 'Authorization: Bearer <key>'."
    )
    max_body_bytes: int = Field(1_000_000, ge=1, description="Largest request body; beyond it: 413.")
    max_inputs: int = Field(64, ge=1, description="Most texts in one request.")
    max_text_chars: int = Field(20_000, ge=1, description="Longest text in characters.")

    # question answering (/v1/qa)
    qa_max_context_chars: int = Field(
        100_000, ge=1, description="Longest question-answering context in characters; beyond it: 422."
    )
    qa_max_question_tokens: int = Field(
        256, ge=1,
        description="Longest question in tokens (before max_question_len cuts it); beyond it: 422.",
    )
    qa_max_windows: int = Field(
        256, ge=1,
        description="Most model windows (question + part of the context) in one /v1/qa request, "
        "over all its questions (queue_limit when that is lower); beyond it: 422.",
    )

    # token classification (/v1/token-classification)
    token_max_text_chars: int = Field(
        100_000, ge=1, description="Longest text to tag in characters (long texts are cut into "
        "windows); beyond it: 422.",
    )
    token_max_windows: int = Field(
        256, ge=1,
        description="Most model windows in one token-classification request, over all its texts "
        "(queue_limit when that is lower); beyond it: 422.",
    )

    fastapi_telemetry: bool = Field(
        False,
        description="FastAPI's own OpenTelemetry instrumentation (traces, metrics and logs to the "
        "globally configured OpenTelemetry providers), where the installed FastAPI has it. Off by "
        "default: the service has its Prometheus metrics, and the per-request check costs CPU.",
    )

    # web page (/)
    web_page: bool = Field(True, description="Serve the web page at / (playground, model cards, live panel).")
    web_refresh_s: float = Field(
        3.0, gt=0, description="How often the page's live panel reads /metrics/summary, in seconds."
    )

    @field_validator("models", "model_id", "providers", "low_priority_tasks", mode="before")
    @classmethod
    def _comma_list(cls, value):
        """'a,b' or a JSON list '["a", "b"]' (environment variables), or a list (flags, code)."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()] or None
        return value

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        if self.max_inputs > self.queue_limit:
            raise ValueError(
                f"max_inputs ({self.max_inputs}) must not exceed queue_limit ({self.queue_limit})"
            )
        return self


def settings_from_cli(argv: list[str] | None) -> Settings:
    """Parse command-line flags on top of the environment (flags win)."""
    return Settings(
        _cli_parse_args=argv if argv is not None else True,
        _cli_prog_name="serve",
        _cli_kebab_case=True,
        _cli_implicit_flags=True,
        _cli_enforce_required=False,
    )


def setup_logging(settings: Settings) -> None:
    """The log level and format of every process of the server."""
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
