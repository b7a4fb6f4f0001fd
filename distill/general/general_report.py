"""report.json, report.md and the loss curves of a general distillation run."""

from __future__ import annotations

import json
from pathlib import Path

from distill.run_report import pyplot

TERMS = ("loss", "loss_ce", "loss_mlm", "loss_cos", "loss_mse")


def plot_terms(history: list[dict], folder: Path) -> str:
    """The total loss and each term per step."""
    plt = pyplot()
    figure, ax = plt.subplots(figsize=(7, 4))
    for term in TERMS:
        points = [(h["step"], h[term]) for h in history if term in h]
        if points:
            ax.plot(*zip(*points), label=term)
    ax.set(title="general distillation: loss per term", xlabel="step", yscale="log")
    ax.legend()
    figure.tight_layout()
    figure.savefig(Path(folder) / "curves.png", dpi=100)
    plt.close(figure)
    return "curves.png"


def render_markdown(report: dict) -> str:
    corpus, held = report["corpus"], report.get("held_out") or {}
    lines = [
        "# General distillation report", "",
        f"- teacher: {report['teacher']} ({'with' if report['teacher_has_mlm_head'] else 'without'} an MLM head)",
        f"- corpus: {', '.join(corpus['sources'])}: {corpus['documents']} documents, {corpus['tokens']} tokens, "
        f"{corpus['train_sequences']} training sequences of up to {corpus['max_seq_len']} tokens",
        f"- student: {report['student_layers']} layers, layer map {report['layer_map']}",
        f"- loss weights: {report['weights']}",
        f"- training: {report['training']['steps']} steps, {report['training']['seconds']:.0f} s", "",
        "## Held-out text", "",
        f"- hidden-state cosine (last layer, student vs teacher): {held.get('hidden_cosine', '-')}",
    ]
    for name in ("teacher", "student"):
        if name in held:
            lines.append(f"- {name}: masked-token accuracy {held[name]['masked_accuracy']}, "
                         f"perplexity {held[name]['perplexity']} ({held[name]['masked_tokens']} masked tokens)")
    lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in report.get("plots", [])]
    return "\n".join(lines) + "\n"


def write_report(report: dict, folder: Path) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (folder / "report.md").write_text(render_markdown(report), encoding="utf-8")
