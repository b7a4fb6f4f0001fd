# syntax=docker/dockerfile:1
#
# The serving image: the `serve` command, FastAPI and ONNX Runtime; no PyTorch.
# Builds the same way with BuildKit (Docker 23 and later) and with buildah (podman build): only
# the stages the final one needs are built.
#
#   docker build -t distilserve:gpu .                                     # CUDA (default)
#   docker build -t distilserve:cpu --build-arg TARGET=cpu .              # CPU only
#   docker build -t distilserve:cpu-baked --build-arg TARGET=cpu --target runtime-baked .
#
# TARGET     gpu: NVIDIA CUDA 12 + cuDNN 9 runtime base with onnxruntime-gpu (extra `serve-gpu`)
#            cpu: Python slim base with the CPU onnxruntime (extra `serve`)
# --target   runtime-mounted (the last stage, so the default): /models is empty; mount a model
#            repository there (docker run -v ...:/models:ro)
#            runtime-baked: /models/sentiment is built in the image with `distill build-default`
#            (CPU torch, in a build stage whose packages never reach the runtime image)
#
# Other arguments: ORT_GPU_VERSION (must match the CUDA major version of CUDA_IMAGE),
# TORCH_VERSION and TORCH_INDEX_URL (CPU torch of the model-building stage), DEFAULT_ARGS
# (extra arguments of `distill build-default`, e.g. "--epochs 1"), PIP_CERT (a CA bundle for pip,
# e.g. /etc/ssl/certs/ca-certificates.crt mounted into the build where the package index is
# reached through a proxy with its own certificate authority).

ARG TARGET=gpu
ARG PYTHON_IMAGE=docker.io/library/python:3.12.13-slim-bookworm
# onnxruntime-gpu 1.26 is the last release built for CUDA 12 (1.27 and later need CUDA 13);
# CUDA 12.x images run on drivers >= 525 through CUDA minor-version compatibility.
ARG CUDA_IMAGE=docker.io/nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

# ---- bases: the same image for building the virtual environment and for running it ----------

FROM ${PYTHON_IMAGE} AS base-cpu

FROM ${CUDA_IMAGE} AS base-gpu
# Ubuntu 24.04's python3 is 3.12, like the CPU base.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*

# ---- the service's virtual environment --------------------------------------------------------

FROM base-${TARGET} AS venv
ARG TARGET
ARG ORT_GPU_VERSION=1.26.0
ARG PIP_CERT=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY modelfolder ./modelfolder
COPY service ./service
# Install, then check that the service imports and that torch did not come along.
RUN if [ -n "$PIP_CERT" ]; then export PIP_CERT; else unset PIP_CERT; fi \
    && if [ "$TARGET" = "gpu" ]; then \
        /opt/venv/bin/pip install ".[serve-gpu]" "onnxruntime-gpu==${ORT_GPU_VERSION}"; \
    else \
        /opt/venv/bin/pip install ".[serve]"; \
    fi \
    && /opt/venv/bin/python -c "import importlib.util as u, sys; sys.exit(u.find_spec('torch') is not None)" \
    && /opt/venv/bin/python -c "import onnxruntime, service.main; print('onnxruntime', onnxruntime.__version__, onnxruntime.get_available_providers())"

# ---- the runtime image ----------------------------------------------------------------------

FROM base-${TARGET} AS runtime
RUN groupadd --system --gid 10001 serve \
    && useradd --system --uid 10001 --gid serve --no-create-home --shell /usr/sbin/nologin serve \
    && mkdir /models
COPY --from=venv /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SERVE_HOST=0.0.0.0 \
    SERVE_PORT=8000 \
    SERVE_MODEL_REPOSITORY=/models
USER 10001:10001
WORKDIR /home/serve
EXPOSE 8000
# Liveness only: readiness (/readyz) is for load balancers and Kubernetes.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SERVE_PORT', '8000'), timeout=4)"]
# uvicorn drains accepted requests on SIGTERM; give `docker stop` time for it (-t / stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["serve"]

# ---- optional: the default model repository, built with CPU torch -----------------------------

FROM ${PYTHON_IMAGE} AS models-build
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG DEFAULT_ARGS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN pip install "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX_URL}"
WORKDIR /src
COPY pyproject.toml README.md ./
COPY modelfolder ./modelfolder
COPY service ./service
COPY distill ./distill
RUN pip install ".[distill]"
RUN distill build-default --output /models ${DEFAULT_ARGS}

# ---- final: the runtime, with the baked models (--target runtime-baked) or without -----------

FROM runtime AS runtime-baked
# Only the model folder: the run directory (/models/.runs) stays in the build stage.
COPY --from=models-build --chown=10001:10001 /models/sentiment /models/sentiment

FROM runtime AS runtime-mounted
