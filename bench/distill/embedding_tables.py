"""The "Sentence embeddings (STS-B)" section of docs/RESULTS.md, from the rows the benchmarks
append: one per recipe run (`bench.distill.embeddings`: trained, exported, served INT8 scored) and
one per variant of the settings sweep (`bench.distill.embedding_sweep`: PyTorch student only)."""

from __future__ import annotations

HEADING = "## Sentence embeddings (STS-B)"
TARGETS = ("Targets: served INT8 STS-B dev Spearman >= 0.84 with the default recipe (97% of the teacher's 0.867), "
           ">= 0.85 with the larger one; mean cosine to the teacher >= 0.95; INT8 within 0.5 Spearman points of fp32; "
           "the default build within 20 minutes on 2 idle cores.")


def _cell(value, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _minutes(seconds) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f}"


def recipe_table(rows: list[dict]) -> list[str]:
    lines = ["| recipe | corpus | sentences | epochs | steps | teacher pass (min) | training (min) | whole run (min) | "
             "STS-B fp32 | STS-B INT8 | retention fp32 | INT8 - fp32 (points) | MRPC retention | mean cosine | "
             "load average (before / after) |", "|" + "---|" * 15]
    for row in rows:
        limits, mrpc = row["limits"], row.get("mrpc") or {}
        fp32 = next((r["spearman"] for r in row["rows"] if r["name"].startswith("student fp32")), None)
        drop = None if row.get("int8_drop") is None else -100 * row["int8_drop"]
        kept = "-" if "retention" not in mrpc else f"{100 * mrpc['retention']:.1f}%"
        lines.append(
            f"| {limits['recipe']} | {limits['corpus']} | {row['data']['train_examples']:,} | {limits['epochs']:g} | "
            f"{row.get('steps', '-')} | {_minutes(row.get('teacher_pass_seconds'))} | {_minutes(row['train_seconds'])} | "
            f"{_minutes(row['wall_seconds'])} | {_cell(fp32)} | {_cell(row['int8_spearman'])} | "
            f"{100 * row['retention']:.1f}% | {'-' if drop is None else f'{drop:+.2f}'} | "
            f"{kept} | {_cell(row['mean_cosine'])} | "
            f"{row.get('loadavg_before', '-').split(' ')[0]} / {row.get('loadavg_after', '-').split(' ')[0]} |")
    return lines


def sweep_table(rows: list[dict]) -> list[str]:
    lines = ["| variant | sentences | teacher layers | lr | batch | max tokens | epochs | hidden-state term | steps | "
             "s/step | training (min) | STS-B | retention | MRPC retention | mean cosine | load average |",
             "|" + "---|" * 16]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['sentences']:,} | {','.join(map(str, r['layers']))} | {r['learning_rate']:g} | "
            f"{r['batch_size']} | {r['max_seq_len']} | {r['epochs']:g} | {r['alpha_cos']:g} | {r['steps']} | "
            f"{r['seconds_per_step']:.2f} | {_minutes(r['train_seconds'])} | {_cell(r['stsb_spearman'])} | "
            f"{100 * r['stsb_retention']:.1f}% | {100 * r['mrpc_retention']:.1f}% | {_cell(r['mean_cosine'])} | "
            f"{r['loadavg_before'].split(' ')[0]} / {r['loadavg_after'].split(' ')[0]} |")
    return lines


def models_table(row: dict) -> list[str]:
    lines = ["| model | STS-B Spearman | mean cosine to teacher | latency b=1 (ms) | latency b=32 (ms) |",
             "|---|---|---|---|---|"]
    for model in row["rows"]:
        latency = model.get("latency_ms") or {}
        lines.append(f"| {model['name']} | {_cell(model['spearman'])} | {_cell(model['mean_cosine'])} | "
                     f"{_cell(latency.get('1'), 2)} | {_cell(latency.get('32'), 2)} |")
    return lines


def section(recipes: list[dict], sweep: list[dict], notes: list[str] = ()) -> str:
    lines = [HEADING, "",
             "Teacher `minilm` (all-MiniLM-L6-v2: 6 layers, mean pooling + L2 normalisation read from its "
             "sentence-transformers config) -> 3-layer DistilBERT student started from teacher layers, trained "
             "with the squared distance and 1 - cosine between its sentence embeddings and the teacher's, which "
             "are computed once over the transfer corpus and stored (the training steps run the student only). "
             "Scored on the 1,500 STS-B dev pairs (Spearman of cosine similarity with the gold scores), on the "
             "408 MRPC dev pairs (Spearman of cosine with the paraphrase label, a ranking check; retention = "
             "student / teacher) and on 1,000 held-out corpus sentences (mean cosine to the teacher's embedding). "
             "No STS-B or MRPC dev sentence is in any training corpus.", "", TARGETS, ""]
    if recipes:
        lines += ["### Recipes (trained, exported, INT8 as served)", "", *recipe_table(recipes), "", "Commands:", ""]
        lines += [f"- {r['limits']['recipe']} ({r['limits']['corpus']}): `{r['command']}` ({r.get('where', '')})"
                  for r in recipes]
        lines += ["", f"Models of the last run ({recipes[-1]['limits']['recipe']}, layer map "
                  f"{recipes[-1]['layer_map']}):", "", *models_table(recipes[-1]), ""]
    if sweep:
        lines += ["### Settings sweep (PyTorch student, mixed corpus, one setting changed at a time: from `base`, "
                  "then from `layers 0,3,5`)", "",
                  *sweep_table(sweep), "",
                  "Command: `.venv/bin/python -m bench.distill.embedding_sweep --data-dir ../shared/data "
                  "--output runs/emb32/sweep --n-max 16000` (teacher embeddings stored at 128 tokens; the "
                  "`max 64 tokens` variant trains the student on 64 against them).", ""]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines).rstrip("\n") + "\n"
