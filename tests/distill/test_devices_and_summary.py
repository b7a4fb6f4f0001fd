"""The run summary when retention is undefined, rows that name their device, and the duration
predicted from the first timed training steps."""

from types import SimpleNamespace

import torch

from distill import run_report as reporting
from distill.cli.common import print_summary
from distill.estimate import StepTimer, duration
from distill.tasks.registry import get_task
from modelfolder.manifest import QUESTION_ANSWERING


def _row(name: str, f1: float, device: str) -> dict:
    return {"name": name, "exact_match": f1, "f1": f1, "parameters": 10, "size_bytes": None,
            "latency_ms": {"1": 2.0, "32": 40.0}, "device": device}


def test_a_teacher_scoring_zero_gives_an_undefined_retention_not_a_traceback(capsys):
    task = get_task(QUESTION_ANSWERING)
    teacher, student = _row(reporting.TEACHER_ROW, 0.0, "cuda (GPU)"), _row(reporting.STUDENT_ROW, 0.0, "cuda (GPU)")
    report = {"headline": "f1", "models": [teacher, student],
              **reporting.summarise(teacher, student, reporting.keys(task.metrics))}
    assert report["retention"]["f1"] is None
    print_summary(task, report, "report here")
    line = capsys.readouterr().out
    assert "retention undefined (the teacher scores 0)" in line and "teacher f1 0.0000" in line
    assert "(teacher on cuda (GPU), student on cuda (GPU))" in line and line.rstrip().endswith("report here")


def test_report_rows_name_their_device_and_the_speed_up_names_both():
    teacher, student = _row(reporting.TEACHER_ROW, 0.8, "cuda (GPU)"), _row(reporting.STUDENT_ROW, 0.7, "cpu (2 threads)")
    report = {"task": "question-answering", "models": [teacher, student],
              **reporting.summarise(teacher, student, ("exact_match", "f1"))}
    text = reporting.render_markdown(report, (("exact_match", "exact match"), ("f1", "F1")))
    assert "| model | device | exact match |" in text
    assert "| teacher (PyTorch) | cuda (GPU) | 0.8000 |" in text
    assert "PyTorch speed-up (teacher on cuda (GPU), student on cpu (2 threads)): 1.0x at batch 1" in text


def test_the_duration_is_predicted_from_the_timed_steps(monkeypatch):
    said = []
    clock = iter([100.0, 102.5])  # 5 timed steps in 2.5 s
    monkeypatch.setattr("distill.estimate.time.perf_counter", lambda: next(clock))
    timer = StepTimer("teacher", said.append, skip=2, count=5)
    args, state = SimpleNamespace(device=torch.device("cpu")), SimpleNamespace(global_step=0, max_steps=207)
    timer.on_train_begin(args, state, None)
    for step in range(1, 12):
        state.global_step = step
        timer.on_step_end(args, state, None)
    assert timer.seconds_per_step == 0.5 and len(said) == 1
    assert said[0].startswith("teacher: 0.500 s per step on cpu (") and "about 1.7 min for the 200 steps left" in said[0]


def test_durations_read_naturally():
    assert [duration(s) for s in (45, 200, 7200)] == ["45 s", "3.3 min", "2.0 h"]
