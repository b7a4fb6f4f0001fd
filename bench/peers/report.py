"""The section of docs/RESULTS.md for the serving peers: the table and the ratios to the best peer."""

from __future__ import annotations

from typing import Any

HEADING = "## Serving peers (SST-2 dev)"


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
