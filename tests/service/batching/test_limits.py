"""Batching limits by execution provider, overridden setting by setting, and shown in /v1/models."""

from __future__ import annotations

from service.batching.limits import PROVIDER_LIMITS, batch_limits
from service.providers import CPU, CUDA
from service.settings import Settings
from tests.service.conftest import serving


def test_each_provider_has_its_defaults():
    cpu, cuda = batch_limits(Settings(), CPU), batch_limits(Settings(), CUDA)
    assert cpu == PROVIDER_LIMITS[CPU] and cuda == PROVIDER_LIMITS[CUDA]
    assert cuda.max_items > cpu.max_items and cuda.max_tokens > cpu.max_tokens
    assert cuda.max_padding == 1.0 and cpu.max_padding < 1.0
    assert batch_limits(Settings(), "TensorrtExecutionProvider") == PROVIDER_LIMITS[CPU]


def test_settings_override_only_what_they_name():
    limits = batch_limits(Settings(max_batch_items=7, max_wait_ms=0.0), CUDA)
    assert (limits.max_items, limits.max_wait_s) == (7, 0.0)
    assert (limits.max_tokens, limits.max_padding) == (PROVIDER_LIMITS[CUDA].max_tokens, 1.0)
    env = Settings.model_validate({"max_batch_padding": "0.5"})
    assert batch_limits(env, CPU).max_padding == 0.5


def test_models_endpoint_reports_the_limits_in_use(repository):
    with serving(repository, max_batch_items=None, max_wait_ms=3.0) as client:
        info = client.get("/v1/models/sentiment").json()
    assert info["batching"] == {"max_items": 32, "max_tokens": 8192, "max_padding": 0.2, "max_wait_ms": 3.0}
    # the test folders carry no validation sample: the alone-vs-batched check says so, nothing more
    assert {k: c["status"] for k, c in info["checks"].items()} == {"int8 alone vs batched": "skipped"}
