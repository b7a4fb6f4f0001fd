"""Plot and Markdown section for bench/serving/load.py."""

from __future__ import annotations

from pathlib import Path

from bench.harness.results import write_section as replace_section

SECTION = "## Serving load (SST-2 dev)"
TARGET_SPEEDUP = 5.0
TARGET_OFFLINE_SHARE = 0.70


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = {"baseline": "tab:red", "service": "tab:blue"}
    for name, system in report["systems"].items():
        rows = system["results"]
        x = [r["throughput"] for r in rows]
        for key, style in (("p50_ms", "o-"), ("p99_ms", "s--")):
            ax.plot(x, [r[key] for r in rows], style, color=styles.get(name), label=f"{name} {key[:3]}")
        for r in rows:
            ax.annotate(f"c={r['concurrency']}", (r["throughput"], r["p99_ms"]), fontsize=7,
                        textcoords="offset points", xytext=(4, 4))
    offline = report["offline"]["texts_per_s"]
    ax.axvline(offline, color="gray", linestyle=":", label="offline ORT throughput")
    ax.set_xlabel("throughput (requests/s, one sentence each)")
    ax.set_ylabel("latency (ms)")
    ax.set_yscale("log")
    generator = "bench/loadgen" if "load_generator" in report else "wrk"  # (reports before bench/loadgen: wrk)
    ax.set_title(f"Latency vs throughput, SST-2 dev, closed loop ({generator})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _table(report: dict) -> list[str]:
    systems = report["systems"]
    service = {r["concurrency"]: r for r in systems["service"]["results"]}
    baseline = {r["concurrency"]: r for r in systems.get("baseline", {}).get("results", [])}
    lines = ["| concurrency | system | req/s | p50 ms | p95 ms | p99 ms | errors | req/s vs baseline |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for level in sorted(service):
        for name, row in (("baseline", baseline.get(level)), ("service", service[level])):
            if row is None:
                continue
            ratio = ""
            if name == "service" and level in baseline and baseline[level]["throughput"] > 0:
                ratio = f"{row['throughput'] / baseline[level]['throughput']:.1f}x"
            lines.append(f"| {level} | {name} | {row['throughput']:.1f} | {row['p50_ms']:.2f} | "
                         f"{row['p95_ms']:.2f} | {row['p99_ms']:.2f} | {row['errors']} | {ratio} |")
    return lines


def _verdicts(report: dict) -> list[str]:
    systems = report["systems"]
    service = systems["service"]["results"]
    best = max(service, key=lambda r: r["throughput"])
    share = best["throughput"] / report["offline"]["texts_per_s"]
    lines = [f"- Offline ONNX Runtime throughput on the same sentences (sorted by length, batches of "
             f"{report['offline']['batch']}, no HTTP): {report['offline']['texts_per_s']:.1f} texts/s. "
             f"Best server throughput {best['throughput']:.1f} req/s (c={best['concurrency']}) = "
             f"{share:.0%} of it (target >= {TARGET_OFFLINE_SHARE:.0%}: "
             f"{'met' if share >= TARGET_OFFLINE_SHARE else 'not met'})."]
    if "baseline" in systems:
        base = {r["concurrency"]: r for r in systems["baseline"]["results"]}
        met = [r["concurrency"] for r in service if r["concurrency"] in base
               and r["throughput"] >= TARGET_SPEEDUP * base[r["concurrency"]]["throughput"]
               and r["p99_ms"] <= base[r["concurrency"]]["p99_ms"]]
        best_base = max(base.values(), key=lambda r: r["throughput"])
        lines.append(f"- Best throughput: service {best['throughput']:.1f} req/s vs baseline "
                     f"{best_base['throughput']:.1f} req/s = {best['throughput'] / best_base['throughput']:.1f}x. "
                     f"Target (>= {TARGET_SPEEDUP:g}x the baseline's throughput at no worse p99, same "
                     f"concurrency): {'met at c=' + ', '.join(map(str, met)) if met else 'not met'}.")
    return lines


def render(report: dict, png: str) -> str:
    service = report["systems"]["service"]
    machine = report["machine"]
    lines = [
        SECTION, "",
        f"Measured {report['measured_at']} on {machine['cpus']} CPUs ({machine['processor']}), "
        f"`{report.get('command', 'python -m bench.serving.load')}`: {report['sentences']} SST-2 dev sentences from `{report['data']}`, "
        f"one sentence per request to `POST /v1/sentiment`, closed loop with "
        f"{report.get('load_generator', 'wrk (1 thread)')}, N connections, {report['seconds_per_level']:g} s per "
        f"level after a warm-up; load generator and server on the same machine.",
        "",
        f"- Service: model `{report['model']}` from `{report['model_repository']}`, variant "
        f"`{service['variant']}` on `{service['provider']}`; command `python -m service {' '.join(service['args'])}`.",
    ]
    if "baseline" in report["systems"]:
        lines.append(f"- Baseline: `bench/serving/baseline_app.py`, the PyTorch teacher `{report['teacher_dir']}` "
                     "in a transformers `text-classification` pipeline, one request at a time.")
    if report.get("tiny"):
        lines.append("- DRY RUN on tiny random models: these numbers say nothing about real models.")
    lines += ["", *_table(report), "", *_verdicts(report), "", f"![latency vs throughput]({png})", ""]
    return "\n".join(lines)


def write_section(report: dict, results: Path, png_name: str) -> None:
    """Replace (or append) this section in `results`, keeping every other section as it is;
    the plot `png_name` lies next to it."""
    replace_section(SECTION, render(report, png_name), Path(results))
