"""Serving peers benchmark: this service vs infinity-emb and LitServe on the same model folder.

One command installs the peers (once, each in its own virtual environment under a cache folder),
serves one text-classification model folder with each system in turn, drives each with the same
closed-loop sweep (bench/loadgen) on SST-2 dev sentences, and reports req/s, p50/p99 latency, the server's
CPU time per request and how often its top label agrees with this service's:

    .venv/bin/python bench/peers.py --model-folder runs/sst2/export-chain/sentiment
    .venv/bin/python bench/peers.py --tiny --seconds 3 --rounds 1 --concurrency 1,16 --print-only

Systems (`--systems`, all on CPU, all on the ONNX file this service picks on CPU, INT8 as a rule):
- `service`: `python -m service` from this repository's virtual environment.
- `infinity`: infinity-emb's `v2` server, `--engine optimum` (ONNX Runtime through Hugging Face
  optimum), on a Hugging Face-style copy of the folder built in the cache (config.json written
  from the manifest and the ONNX graph, tokenizer files, the ONNX file); endpoint `/classify`.
- `infinity-torch`: the same server with `--engine torch` on the fp32 PyTorch student given by
  `--hf-student DIR` (only then).
- `litserve`: bench/peer_apps/litserve_app.py (LitServe batching, ONNX Runtime, `tokenizers`).

Only one server runs at a time (the machine has 2 cores): each round starts a system, warms it
up, runs every concurrency level, stops it, then the next system; the order of the systems turns
by one each round, and the table shows medians over rounds. Server CPU time is the user + system
time of the server's process tree (psutil) across one load run, divided by the answered requests.

Writes the raw numbers to docs/peers.json (`--output-json`) and the section
"## Serving peers (SST-2 dev)" of docs/RESULTS.md (`--results`), unless `--print-only`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import DEFAULT_DATA, read_sentences  # noqa: E402
from bench.load_procs import free_port  # noqa: E402
from bench.loadgen import LoadResult, closed_loop, describe, json_bodies, sentence_bodies  # noqa: E402
from bench.results_md import RESULTS, write_section  # noqa: E402

HEADING = "## Serving peers (SST-2 dev)"
DEFAULT_CACHE = Path.home() / ".cache" / "distilserve-peers"
LITSERVE_APP = ROOT / "bench" / "peer_apps" / "litserve_app.py"
TORCH_PIN = "2.13.0"  # the local CPU wheel; any other version would pull a CUDA build
INFINITY_PIN = "0.0.78"
LITSERVE_PIN = "0.2.19"
BATCH_SIZE = 32  # infinity's --batch-size, LitServe's max_batch_size
ALL_SYSTEMS = ("service", "infinity", "infinity-torch", "litserve")
LAYER_NAME = re.compile(r"transformer[./]layer[./](\d+)[./]")  # initializer and node names of a layer


# ---------------------------------------------------------------- peer environments


@dataclass(frozen=True)
class PeerEnv:
    """A virtual environment of the cache: what goes in it, torch (the CPU wheel) first or not."""

    name: str
    packages: tuple[str, ...]
    torch_first: bool
    report: tuple[str, ...]  # distributions whose installed versions are reported

    def stamp(self) -> dict[str, Any]:
        return {"packages": list(self.packages), "torch": TORCH_PIN if self.torch_first else None,
                "python": platform.python_version()}


def peer_envs() -> dict[str, PeerEnv]:
    """The pins. LitServe gets the project's own onnxruntime and tokenizers versions."""
    ort_version, tok_version = metadata.version("onnxruntime"), metadata.version("tokenizers")
    return {
        "infinity": PeerEnv("infinity", (f"infinity-emb[server,torch,optimum]=={INFINITY_PIN}",), True,
                            ("infinity-emb", "optimum", "optimum-onnx", "onnxruntime", "transformers",
                             "tokenizers", "torch")),
        "litserve": PeerEnv("litserve", (f"litserve=={LITSERVE_PIN}", f"onnxruntime=={ort_version}",
                                         f"tokenizers=={tok_version}"), False,
                            ("litserve", "onnxruntime", "tokenizers", "numpy")),
    }


def pip_install(python: Path, args: list[str], log: Path) -> None:
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *args]
    print(f"  $ {' '.join(command)}", flush=True)
    with open(log, "a") as handle:
        done = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"pip install {' '.join(args)} failed ({done.returncode}); see {log}")


def installed_versions(python: Path, names: tuple[str, ...]) -> dict[str, str | None]:
    code = ("import json, sys\nfrom importlib import metadata\nout = {}\n"
            "for n in sys.argv[1:]:\n"
            "    try: out[n] = metadata.version(n)\n"
            "    except metadata.PackageNotFoundError: out[n] = None\n"
            "print(json.dumps(out))")
    done = subprocess.run([str(python), "-c", code, *names], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def check_torch(versions: dict[str, str | None], env: Path) -> None:
    """Refuse an environment whose torch is anything but the local CPU build of the pin."""
    torch = versions.get("torch")
    if torch is not None and not (torch.split("+")[0] == TORCH_PIN and "+cpu" in torch):
        raise RuntimeError(f"{env}: torch {torch} installed, expected the CPU wheel {TORCH_PIN}+cpu; "
                           f"remove {env} and check pip's find-links")


def ensure_env(cache: Path, spec: PeerEnv) -> tuple[Path, dict[str, str | None]]:
    """Create and fill the environment unless its stamp says it holds these pins; returns its
    python and the installed versions of the distributions that matter."""
    env = cache / spec.name
    python = env / "bin" / "python"
    stamp = env / "distilserve-stamp.json"
    if python.exists() and stamp.exists() and json.loads(stamp.read_text()).get("pins") == spec.stamp():
        return python, json.loads(stamp.read_text())["versions"]
    print(f"installing {spec.name} into {env} (once)", flush=True)
    if not python.exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(env)], check=True)
    log = env / "install.log"
    constraints = env / "constraints.txt"
    constraints.write_text(f"torch=={TORCH_PIN}\n")  # nothing may move torch off the CPU wheel
    if spec.torch_first:
        pip_install(python, [f"torch=={TORCH_PIN}"], log)
    pip_install(python, ["-c", str(constraints), *spec.packages], log)
    versions = installed_versions(python, spec.report)
    check_torch(versions, env)
    stamp.write_text(json.dumps({"pins": spec.stamp(), "versions": versions}, indent=2) + "\n")
    return python, versions


# ---------------------------------------------------------------- the model folder


@dataclass(frozen=True)
class ModelFolder:
    """The folder under test and the ONNX file this service serves from it on CPU."""

    path: Path
    manifest: Any  # modelfolder.manifest.Manifest
    variant: str
    file: str
    precision: str


def served_variant(folder: Path, preference: str) -> ModelFolder:
    """Read the manifest and pick the variant as `python -m service --variant <preference>` on CPU."""
    from modelfolder.manifest import CLASSIFICATION, ModelFolderError, read_manifest
    from service.providers import CPU
    from service.runtime.build import choose_variant

    try:
        manifest = read_manifest(folder)
        variant = choose_variant(manifest, preference, CPU, folder)
    except ModelFolderError as exc:
        raise SystemExit(f"model folder: {exc}") from exc
    if manifest.task != CLASSIFICATION:
        raise SystemExit(f"{folder}: task {manifest.task!r}; this benchmark needs a text-classification folder")
    chosen = manifest.variants[variant]
    if not (folder / chosen.file).is_file():
        raise SystemExit(f"{folder}: the {chosen.precision} file {chosen.file} named in manifest.json is missing")
    if not (folder / manifest.tokenizer).is_file():
        raise SystemExit(f"{folder}: tokenizer file {manifest.tokenizer} is missing")
    if chosen.precision != "int8":
        print(f"note: the service serves {chosen.file} ({chosen.precision}) here, not an INT8 file", flush=True)
    return ModelFolder(folder, manifest, variant, chosen.file, chosen.precision)


def graph_dims(onnx_path: Path) -> dict[str, int]:
    """DistilBERT sizes read off the ONNX graph (embedding tables, attention nodes), for config.json."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    dims: dict[str, int] = {}
    for tensor in graph.initializer:
        name = tensor.name.removesuffix("_quantized")
        if name.endswith("word_embeddings.weight") and len(tensor.dims) == 2:
            dims["vocab_size"], dims["dim"] = int(tensor.dims[0]), int(tensor.dims[1])
        elif name.endswith("position_embeddings.weight") and len(tensor.dims) == 2:
            dims["max_position_embeddings"] = int(tensor.dims[0])
    heads = [a.i for n in graph.node if "Attention" in n.op_type for a in n.attribute if a.name == "num_heads"]
    if heads:  # fused graph: one attention node per layer
        dims["n_heads"], dims["n_layers"] = int(heads[0]), len(heads)
    else:
        names = [t.name for t in graph.initializer] + [n.name for n in graph.node]
        layers = {m.group(1) for name in names for m in [LAYER_NAME.search(name)] if m}
        if layers:
            dims["n_layers"] = len(layers)
    return dims


def special_tokens(tokenizer_json: Path) -> dict[str, str]:
    """tokenizer_config.json's special-token fields from the BERT-style tokens tokenizer.json has."""
    roles = {"[PAD]": "pad_token", "[UNK]": "unk_token", "[CLS]": "cls_token", "[SEP]": "sep_token",
             "[MASK]": "mask_token"}
    added = json.loads(tokenizer_json.read_text()).get("added_tokens", [])
    return {roles[t["content"]]: t["content"] for t in added if t.get("special") and t["content"] in roles}


def write_tokenizer_files(target: Path, tokenizer_json: Path, max_seq_len: int) -> None:
    """tokenizer.json plus a tokenizer_config.json that transformers 4.x reads as a fast tokenizer
    giving input_ids and attention_mask only (the graph has no token_type_ids)."""
    shutil.copyfile(tokenizer_json, target / "tokenizer.json")
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": max_seq_len,
              "model_input_names": ["input_ids", "attention_mask"], **special_tokens(tokenizer_json)}
    (target / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")


def hf_config(model: ModelFolder) -> dict[str, Any]:
    """config.json for a folder without one: labels from the manifest, sizes from the graph."""
    labels = list(model.manifest.labels)
    return {
        "architectures": ["DistilBertForSequenceClassification"], "model_type": "distilbert",
        "id2label": {str(i): label for i, label in enumerate(labels)},
        "label2id": {label: i for i, label in enumerate(labels)},
        **graph_dims(model.path / model.file),
        "_distilserve_note": f"written by bench/peers.py from {model.path}/manifest.json and {model.file}",
    }


def infinity_folder(cache: Path, model: ModelFolder) -> Path:
    """A Hugging Face-style copy of the model folder for infinity's optimum engine: config.json,
    tokenizer files and the ONNX file alone (infinity picks the only .onnx file it finds; the name
    `model_quantized.onnx` is the one it would prefer on CPU among several)."""
    sha = model.manifest.variants[model.variant].sha256[:12]
    target = cache / "folders" / f"{model.path.name}-{model.variant}-{sha}"
    onnx_name = "model_quantized.onnx" if model.precision == "int8" else "model.onnx"
    if (target / onnx_name).exists():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    own_config = model.path / "config.json"
    config = json.loads(own_config.read_text()) if own_config.is_file() else hf_config(model)
    (partial / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    write_tokenizer_files(partial, model.path / model.manifest.tokenizer, model.manifest.max_seq_len)
    shutil.copyfile(model.path / model.file, partial / onnx_name)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def torch_student_folder(cache: Path, student: Path, model: ModelFolder) -> Path:
    """The PyTorch student's weights with a config.json naming the labels as the manifest does and
    a tokenizer_config.json that infinity's transformers reads (config.json, written last, marks
    a finished copy)."""
    weights = sorted(p for p in student.iterdir() if p.suffix in (".safetensors", ".bin"))
    if not weights or not (student / "tokenizer.json").is_file():
        raise RuntimeError(f"{student}: needs model.safetensors (or .bin) and tokenizer.json")
    key = hashlib.sha1(f"{student.resolve()}:{weights[0].stat().st_mtime_ns}".encode()).hexdigest()[:12]
    target = cache / "folders" / f"torch-{student.resolve().name}-{key}"
    if (target / "config.json").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    for item in weights:
        shutil.copyfile(item, target / item.name)
    write_tokenizer_files(target, student / "tokenizer.json", model.manifest.max_seq_len)
    config = json.loads((student / "config.json").read_text())
    labels = list(model.manifest.labels)
    if len(config.get("id2label", {})) == len(labels):
        config["id2label"] = {str(i): label for i, label in enumerate(labels)}
        config["label2id"] = {label: i for i, label in enumerate(labels)}
    (target / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return target


def build_tiny(root: Path) -> tuple[Path, Path]:
    """A tiny random classifier folder (INT8 = an fp32 copy) and its PyTorch checkpoint, for a dry
    run. Unlike bench/load.py's, its graph takes 512 positions: infinity's pipeline does not
    truncate, so a longer sentence than the graph takes would wedge it."""
    import warnings

    from tests.service.model_folders import SENTIMENT_LABELS, build_classifier_folder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = build_classifier_folder(root / "models" / "sentiment", SENTIMENT_LABELS, max_seq_len=128,
                                         with_int8_copy=True, checkpoint_dir=root / "student", positions=512)
    return folder, root / "student"


# ---------------------------------------------------------------- systems


@dataclass
class System:
    """How to start one server and talk to it. `command` holds "{port}" where the port goes."""

    name: str
    command: list[str]
    ready_path: str
    endpoint: str
    body: Callable[[str], dict[str, Any]]
    top_label: Callable[[Any], str]
    description: str
    env: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str | None] = field(default_factory=dict)
    cwd: Path | None = None  # where the server starts (default: the run's log folder)


def _service_label(answer: Any) -> str:
    return answer[0]["label"]


def _infinity_label(answer: Any) -> str:
    return max(answer["data"][0], key=lambda item: item["score"])["label"]


def _litserve_label(answer: Any) -> str:
    return answer["label"]


def service_system(model: ModelFolder, preference: str, flags: list[str] | None = None) -> System:
    flags = flags or []
    command = [sys.executable, "-m", "service", "--model-repository", str(model.path.parent),
               "--models", model.path.name, "--sentiment-model", model.path.name,
               "--variant", preference, "--log-level", "warning", *flags, "--port", "{port}"]
    settings = f"flags `{' '.join(flags)}`" if flags else "default settings"
    return System("service", command, "/readyz", "/v1/sentiment",
                  lambda text: {"inputs": text, "truncation": True}, _service_label,
                  f"`python -m service` (this repository), variant `{model.variant}` ({model.file}), "
                  f"{settings}", versions={"distilserve": metadata.version("distilserve")})


def infinity_env(cache: Path) -> dict[str, str]:
    """Offline, no telemetry, Hugging Face caches inside the peers cache."""
    return {"HF_HOME": str(cache / "hf-home"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "DO_NOT_TRACK": "1", "INFINITY_ANONYMOUS_USAGE_STATS": "0"}


def infinity_command(python: Path, served_name: str, engine: str, *extra: str) -> list[str]:
    """infinity-emb's v2 server on the model folder it is started in (see `infinity_system`)."""
    return [str(python), "-m", "infinity_emb.cli", "v2", "--model-id", ".",
            "--served-model-name", served_name, "--engine", engine, "--device", "cpu",
            "--batch-size", str(BATCH_SIZE), "--host", "127.0.0.1", "--port", "{port}",
            "--log-level", "warning", "--no-compile", "--onnx-disable-optimize", "--no-model-warmup", *extra]


def infinity_system(name: str, python: Path, versions: dict, cache: Path, folder: Path, engine: str,
                    what: str) -> System:
    """infinity-emb's v2 server. It starts inside the folder with `--model-id .`: for a local folder
    infinity 0.0.78 hands optimum the ONNX file's path as found under the model id, and optimum 2.x
    compares that with bare file names, so only a model id of "." gives a path that matches.
    `--no-model-warmup`: infinity's warm-up classifies 512 words, 514 tokens with [CLS] and [SEP],
    which its pipeline does not truncate and a 512-position model refuses, so the server would not
    start; every system gets the same warm-up load instead."""
    return System(name, infinity_command(python, "sentiment", engine), "/health", "/classify",
                  lambda text: {"input": [text], "model": "sentiment"}, _infinity_label,
                  f"infinity-emb `v2 --engine {engine} --batch-size {BATCH_SIZE} --no-model-warmup "
                  f"--onnx-disable-optimize --no-compile` on {what}",
                  env=infinity_env(cache), versions=versions, cwd=folder)


def litserve_system(python: Path, versions: dict, model: ModelFolder) -> System:
    command = [str(python), str(LITSERVE_APP), "--model-folder", str(model.path),
               "--onnx-file", model.file, "--port", "{port}"]
    return System("litserve", command, "/health", "/predict",
                  lambda text: {"inputs": text}, _litserve_label,
                  f"LitServe app `bench/peer_apps/litserve_app.py` on {model.file} (ONNX Runtime with "
                  "its default session options, max_batch_size 32, batch_timeout 5 ms, 1 worker)",
                  versions=versions)


def build_system(name: str, args: argparse.Namespace, model: ModelFolder) -> System:
    """Install what one system needs (once) and describe how to run it."""
    envs = peer_envs()
    if name == "service":
        return service_system(model, args.variant, shlex.split(args.service_args))
    if name == "litserve":
        python, versions = ensure_env(args.cache, envs["litserve"])
        return litserve_system(python, versions, model)
    python, versions = ensure_env(args.cache, envs["infinity"])
    if name == "infinity":
        folder = infinity_folder(args.cache, model)
        return infinity_system(name, python, versions, args.cache, folder, "optimum",
                               f"{model.file} ({model.precision}, copied to {folder})")
    folder = torch_student_folder(args.cache, args.hf_student, model)
    return infinity_system(name, python, versions, args.cache, folder, "torch",
                           f"the fp32 PyTorch student {args.hf_student}")


def build_systems(names: list[str], args: argparse.Namespace, model: ModelFolder
                  ) -> tuple[dict[str, System], dict[str, str]]:
    """The systems that could be set up, and why each other one could not."""
    systems: dict[str, System] = {}
    failed: dict[str, str] = {}
    for name in names:
        try:
            systems[name] = build_system(name, args, model)
        except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as exc:
            failed[name] = f"setup failed: {exc}"
            print(f"  {name} left out: {exc}", flush=True)
    return systems, failed


# ---------------------------------------------------------------- running a server


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop_tree(process: subprocess.Popen) -> None:
    """SIGTERM the server and every process it started (LitServe's workers), then SIGKILL stragglers."""
    try:
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(tree, timeout=20)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=10)
    if process.poll() is None:
        process.wait(timeout=10)


@contextlib.contextmanager
def running(system: System, log_path: Path, ready_timeout: float) -> Iterator[tuple[str, int]]:
    """Start the system on a free port; yield (base URL, server pid) once its ready path answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [part.replace("{port}", str(port)) for part in system.command]
    with open(log_path, "a") as log:
        process = subprocess.Popen(command, cwd=system.cwd or log_path.parent, stdout=log,
                                   stderr=subprocess.STDOUT, env={**os.environ, **system.env})
        try:
            deadline = time.monotonic() + ready_timeout
            while not _answers(url + system.ready_path):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{system.name} did not become ready; see {log_path}")
                time.sleep(0.25)
            yield url, process.pid
        finally:
            _stop_tree(process)


def tree_cpu_seconds(pid: int) -> dict[int, float]:
    """user + system CPU seconds of a process and each of its descendants, by pid."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {}
    seconds: dict[int, float] = {}
    for proc in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            seconds[proc.pid] = times.user + times.system
    return seconds


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two snapshots (a process born in between counts whole)."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def post_json(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def probe_labels(url: str, system: System, texts: list[str], give_up_after: int = 3) -> list[str | None]:
    """Top label of each text, one request at a time (None where the request failed); after
    `give_up_after` failures in a row the rest count as failed too (a wedged server)."""
    labels: list[str | None] = []
    failures = 0
    for text in texts:
        try:
            labels.append(system.top_label(post_json(url + system.endpoint, system.body(text))))
            failures = 0
        except (urllib.error.URLError, OSError, KeyError, IndexError, ValueError):
            labels.append(None)
            failures += 1
            if failures >= give_up_after:
                print(f"  {system.name}: {failures} failed answers in a row; probing stopped", flush=True)
                break
    return labels + [None] * (len(texts) - len(labels))


def measure(url: str, pid: int, system: System, bodies: list[bytes], level: int, seconds: float) -> dict[str, Any]:
    """One closed-loop run at `level` connections, with the server tree's CPU time across it."""
    before = tree_cpu_seconds(pid)
    result: LoadResult = closed_loop(url + system.endpoint, bodies, level, seconds)
    spent = cpu_used(before, tree_cpu_seconds(pid))
    answered = result.requests - result.errors
    return {**result.as_dict(), "cpu_seconds": round(spent, 3),
            "cpu_ms_per_request": round(1000 * spent / answered, 3) if answered else None}


def system_bodies(system: System, texts: list[str]) -> list[bytes]:
    """The request bodies: the service's own form via sentence_bodies, peers' from System.body."""
    if system.name == "service":
        return sentence_bodies(texts)
    return json_bodies(system.body(t) for t in texts)


# ---------------------------------------------------------------- the sweep


@dataclass
class Sweep:
    levels: list[int]
    seconds: float
    warmup_s: float
    rounds: int
    ready_timeout: float
    agreement_texts: list[str]


def run_system_round(system: System, sweep: Sweep, bodies: list[bytes], work: Path, raw: dict[str, Any]) -> None:
    """Start the system, probe its labels (the first time), warm it up, run every level, stop it."""
    entry = raw.setdefault(system.name, {"runs": {str(level): [] for level in sweep.levels}})
    with running(system, work / f"{system.name}.log", sweep.ready_timeout) as (url, pid):
        if "labels" not in entry:
            entry["labels"] = probe_labels(url, system, sweep.agreement_texts)
        closed_loop(url + system.endpoint, bodies, max(sweep.levels), sweep.warmup_s)
        for level in sweep.levels:
            result = measure(url, pid, system, bodies, level, sweep.seconds)
            entry["runs"][str(level)].append(result)
            print(f"  {system.name:<15} c={level:<4} {result['throughput']:8.1f} req/s  "
                  f"p50 {result['p50_ms']:7.2f} ms  p99 {result['p99_ms']:7.2f} ms  "
                  f"cpu {result['cpu_ms_per_request'] or 0:6.2f} ms/req  errors {result['errors']}", flush=True)


def run_rounds(systems: dict[str, System], sweep: Sweep, bodies: dict[str, list[bytes]], work: Path
               ) -> tuple[dict[str, Any], dict[str, str]]:
    """All rounds, one server at a time; the order turns by one each round. A system that fails is
    reported and left out of the later rounds."""
    raw: dict[str, Any] = {}
    failed: dict[str, str] = {}
    names = list(systems)
    for round_index in range(sweep.rounds):
        shift = round_index % len(names)
        order = [n for n in names[shift:] + names[:shift] if n not in failed]
        print(f"round {round_index + 1}/{sweep.rounds}: {', '.join(order)}", flush=True)
        for name in order:
            try:
                run_system_round(systems[name], sweep, bodies[name], work, raw)
            except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
                failed[name] = str(exc)
                print(f"  {name} FAILED: {exc}", flush=True)
    return raw, failed


def median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def med(key: str) -> float | None:
        values = [r[key] for r in runs if r.get(key) is not None]
        return round(statistics.median(values), 3) if values else None

    return {"rounds": len(runs), "throughput": med("throughput"), "p50_ms": med("p50_ms"),
            "p95_ms": med("p95_ms"), "p99_ms": med("p99_ms"), "cpu_ms_per_request": med("cpu_ms_per_request"),
            "errors": sum(r["errors"] for r in runs)}


def agreement(labels: list[str | None] | None, reference: list[str | None] | None) -> float | None:
    """Share of texts whose top label equals the reference's (a failed answer counts as a miss)."""
    if not labels or not reference:
        return None
    same = sum(1 for a, b in zip(labels, reference) if a is not None and a == b)
    return round(same / len(reference), 4)


def summarize(raw: dict[str, Any], names: list[str], levels: list[int]) -> dict[str, Any]:
    """Medians per system and level (in the order of `names`), and label agreement with the service."""
    reference = raw.get("service", {}).get("labels")
    summary: dict[str, Any] = {}
    for name in (n for n in names if n in raw):
        entry = raw[name]
        summary[name] = {
            "label_agreement": agreement(entry.get("labels"), reference),
            "failed_probes": sum(1 for label in entry.get("labels") or [] if label is None),
            "levels": {str(level): median_row(entry["runs"][str(level)]) for level in levels
                       if entry["runs"][str(level)]},
        }
    return summary


# ---------------------------------------------------------------- report


def _num(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def results_table(report: dict[str, Any]) -> list[str]:
    lines = ["| concurrency | system | req/s | p50 ms | p99 ms | server CPU ms/req | errors | label agreement |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for level in report["concurrency"]:
        for name, data in report["summary"].items():
            row = data["levels"].get(str(level))
            if row is None:
                continue
            agree = data["label_agreement"]
            lines.append(f"| {level} | {name} | {_num(row['throughput'])} | {_num(row['p50_ms'], 2)} | "
                         f"{_num(row['p99_ms'], 2)} | {_num(row['cpu_ms_per_request'], 2)} | {row['errors']} | "
                         f"{'' if agree is None else f'{100 * agree:.1f}%'} |")
    return lines


def ratio_table(report: dict[str, Any]) -> list[str]:
    """service req/s over the best peer's at each level (and its CPU ms/req over that peer's)."""
    summary = report["summary"]
    if "service" not in summary or len(summary) < 2:
        return []
    lines: list[str] = []
    for level in report["concurrency"]:
        ours = summary["service"]["levels"].get(str(level))
        peers = [(n, d["levels"][str(level)]) for n, d in summary.items()
                 if n != "service" and str(level) in d["levels"] and d["levels"][str(level)]["throughput"]]
        if not ours or not peers:
            continue
        if len(lines) == 0:
            lines += ["| concurrency | best peer | service / best peer req/s | service / that peer CPU ms/req |",
                      "|---:|---|---:|---:|"]
        best, row = max(peers, key=lambda p: p[1]["throughput"])
        cpu = (f"{ours['cpu_ms_per_request'] / row['cpu_ms_per_request']:.2f}x"
               if ours["cpu_ms_per_request"] and row["cpu_ms_per_request"] else "")
        lines.append(f"| {level} | {best} | {ours['throughput'] / row['throughput']:.2f}x | {cpu} |")
    return lines


def markdown(report: dict[str, Any]) -> str:
    lines = [HEADING, "",
             f"Measured {report['measured_at']} on {report['machine']['cpus']} CPUs "
             f"({report['machine']['processor']}), `{report['command']}`: {report['sentences']} SST-2 dev "
             f"sentences from `{report['data']}`, one sentence per request, closed loop with "
             f"{report.get('load_generator', 'wrk (1 thread)')}, N connections, {report['seconds_per_level']:g} s "
             f"per level after a {report['warmup_seconds']:g} s warm-up; one server up at a time, "
             f"{report['rounds']} round(s) "
             "with the order of the systems turned each round; medians over rounds. Server CPU = user + "
             "system time of the server's process tree during a run / answered requests. Label agreement: "
             f"top label equal to the service's on the first {report['agreement_sentences']} sentences.",
             "", f"Model folder `{report['model_folder']}`, file `{report['onnx_file']}` "
             f"({report['precision']}) for every ONNX system.", ""]
    if report["tiny"]:
        lines += ["Dry run on a tiny random model: the numbers say nothing about the real one.", ""]
    for name, info in report["systems"].items():
        pins = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
        lines.append(f"- `{name}`: {info['description']}" + (f" ({pins})" if pins else ""))
    for name, reason in report["failed"].items():
        lines.append(f"- `{name}` could not be measured: {reason}")
    lines += ["", *results_table(report)]
    ratios = ratio_table(report)
    if ratios:
        lines += ["", *ratios]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="This service vs infinity-emb and LitServe on one model folder "
                                "(closed-loop sweep, one server at a time, medians over rounds).")
    p.add_argument("--model-folder", type=Path, help="Text-classification model folder (manifest.json, "
                   "tokenizer.json, ONNX variants).")
    p.add_argument("--tiny", action="store_true", help="Dry run on a tiny random model folder built in a "
                   "temporary directory (its PyTorch copy serves as --hf-student).")
    p.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="Where the peers' virtual environments "
                   "and model copies live (default: %(default)s).")
    p.add_argument("--systems", default=None, help=f"Comma-separated, from {', '.join(ALL_SYSTEMS)} (default: "
                   "service,infinity,litserve, plus infinity-torch with --hf-student).")
    p.add_argument("--hf-student", type=Path, help="PyTorch student checkpoint (config.json, weights, "
                   "tokenizer.json) for infinity's torch engine.")
    p.add_argument("--service-args", default="", help="Extra flags for this service, e.g. '--workers 2'.")
    p.add_argument("--variant", default="auto", help="Variant the service serves and the peers load "
                   "(auto: what the service picks on CPU, INT8 when recommended).")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="SST-2 dev.tsv (sentence<TAB>label).")
    p.add_argument("--limit", type=int, default=None, help="Use only the first N sentences for the load.")
    p.add_argument("--agreement-sentences", type=int, default=200, help="Sentences sent once to every "
                   "system to compare top labels (0: all).")
    p.add_argument("--concurrency", default="1,16,64", help="Comma-separated connection counts.")
    p.add_argument("--seconds", type=float, default=20.0, help="Measured seconds per level.")
    p.add_argument("--warmup-seconds", type=float, default=3.0, help="Unmeasured load after each start.")
    p.add_argument("--rounds", type=int, default=3, help="Rounds over all systems; medians are reported.")
    p.add_argument("--ready-timeout", type=float, default=600.0, help="Seconds a server may take to start.")
    p.add_argument("--results", type=Path, default=None, help="Markdown file whose section is rewritten "
                   "(default: docs/RESULTS.md).")
    p.add_argument("--output-json", type=Path, default=None, help="Raw numbers (default: docs/peers.json).")
    p.add_argument("--print-only", action="store_true", help="Print the table; write neither file "
                   "(implied by --tiny unless --results or --output-json is given).")
    p.add_argument("--render-only", type=Path, default=None, help="Rewrite the section from this JSON and stop.")
    p.add_argument("--install-only", action="store_true", help="Install the peers' environments and stop.")
    return p.parse_args(argv)


def chosen_systems(args: argparse.Namespace) -> list[str]:
    if args.systems is None:
        names = ["service", "infinity", "litserve"] + (["infinity-torch"] if args.hf_student else [])
    else:
        names = [n.strip() for n in args.systems.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALL_SYSTEMS]
    if unknown or not names:
        raise SystemExit(f"--systems: unknown {unknown} (known: {', '.join(ALL_SYSTEMS)})")
    if "infinity-torch" in names and args.hf_student is None:
        raise SystemExit("--systems infinity-torch needs --hf-student DIR (the PyTorch student)")
    if args.hf_student is not None and not (args.hf_student / "config.json").is_file():
        raise SystemExit(f"--hf-student {args.hf_student}: no config.json there")
    return list(dict.fromkeys(names))


def install_only(args: argparse.Namespace, names: list[str]) -> None:
    envs = peer_envs()
    for env_name in dict.fromkeys("infinity" if n.startswith("infinity") else n for n in names):
        if env_name in envs:
            python, versions = ensure_env(args.cache, envs[env_name])
            print(f"{env_name}: {python} {versions}")


def build_report(args: argparse.Namespace, argv: list[str] | None, model: ModelFolder, texts: list[str],
                 systems: dict[str, System], raw: dict[str, Any], failed: dict[str, str], levels: list[int],
                 agreement_n: int) -> dict[str, Any]:
    return {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/peers.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "data": str(args.data), "sentences": len(texts), "agreement_sentences": agreement_n,
        "concurrency": levels, "seconds_per_level": args.seconds, "warmup_seconds": args.warmup_seconds,
        "rounds": args.rounds, "model_folder": str(model.path), "variant": model.variant,
        "onnx_file": model.file, "precision": model.precision, "tiny": args.tiny,
        "systems": {n: {"description": s.description, "versions": s.versions,
                        "command": list(s.command)} for n, s in systems.items()},
        "failed": failed,
        "summary": summarize(raw, list(systems), levels),
        "raw": {n: {"runs": e["runs"], "labels": e.get("labels")} for n, e in raw.items()},
        "load_generator": describe([r for e in raw.values() for runs in e["runs"].values() for r in runs]),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.render_only is not None:
        text = markdown(json.loads(args.render_only.read_text()))
        print(text)
        write_section(HEADING, text, args.results or RESULTS)
        return
    args.cache = args.cache.expanduser().resolve()
    if args.install_only:
        return install_only(args, chosen_systems(args))
    levels = [int(c) for c in args.concurrency.split(",")]
    work = Path(tempfile.mkdtemp(prefix="peers-"))
    if args.tiny:
        args.model_folder, student = build_tiny(work)
        args.hf_student = args.hf_student or student
    names = chosen_systems(args)
    if args.model_folder is None:
        raise SystemExit("give --model-folder DIR (or --tiny for a dry run)")
    if not args.data.is_file():
        raise SystemExit(f"--data {args.data}: no such file")
    model = served_variant(args.model_folder.resolve(), args.variant)
    texts = read_sentences(args.data, args.limit)
    agreement_n = len(texts) if args.agreement_sentences <= 0 else min(args.agreement_sentences, len(texts))
    args.cache.mkdir(parents=True, exist_ok=True)
    systems, setup_failed = build_systems(names, args, model)
    if not systems:
        raise SystemExit(f"no system could be set up: {setup_failed}")
    bodies = {name: system_bodies(system, texts) for name, system in systems.items()}
    print(f"{len(texts)} sentences from {args.data}; {model.file} ({model.precision}); logs in {work}", flush=True)
    sweep = Sweep(levels, args.seconds, args.warmup_seconds, args.rounds, args.ready_timeout, texts[:agreement_n])
    raw, failed = run_rounds(systems, sweep, bodies, work)
    failed = {**setup_failed, **failed}
    report = build_report(args, argv, model, texts, systems, raw, failed, levels, agreement_n)
    text = markdown(report)
    print("\n" + text)
    if args.print_only or (args.tiny and args.results is None and args.output_json is None):
        return
    output_json = args.output_json or ROOT / "docs" / "peers.json"
    results = args.results or RESULTS
    output_json.parent.mkdir(parents=True, exist_ok=True)
    output_json.write_text(json.dumps(report, indent=2) + "\n")
    write_section(HEADING, text, results)
    print(f"wrote {output_json} and the section {HEADING!r} of {results}")


if __name__ == "__main__":
    main()
