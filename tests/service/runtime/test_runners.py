"""Runners and ONNX Runtime threads by default: per core on a CPU, one on CUDA, settings kept."""

from __future__ import annotations

from service.runtime.runners import runner_settings
from service.settings import Settings

CPU_ONLY = ["CPUExecutionProvider"]
WITH_CUDA = ["CUDAExecutionProvider", "CPUExecutionProvider"]


def test_on_a_cpu_each_core_gets_a_runner_of_one_thread():
    decided = runner_settings(Settings(), 4, CPU_ONLY)
    assert (decided.model_runners, decided.intra_op_threads) == (4, 1)
    forced_cpu = runner_settings(Settings(providers=["CPUExecutionProvider"]), 2, WITH_CUDA)
    assert (forced_cpu.model_runners, forced_cpu.intra_op_threads) == (2, 1)


def test_on_cuda_one_runner():
    decided = runner_settings(Settings(), 16, WITH_CUDA)
    assert (decided.model_runners, decided.intra_op_threads) == (1, 0)


def test_settings_given_are_kept():
    threads = runner_settings(Settings(intra_op_threads=2), 4, CPU_ONLY)
    assert (threads.model_runners, threads.intra_op_threads) == (1, 2)  # one call spread over 2 threads
    runners = runner_settings(Settings(model_runners=3), 4, CPU_ONLY)
    assert (runners.model_runners, runners.intra_op_threads) == (3, 0)


def test_cores_are_bounded_by_a_containers_cpu_quota(tmp_path):
    import os

    from service.runtime.runners import available_cores, worker_count

    affinity = len(os.sched_getaffinity(0))
    assert available_cores(tmp_path) == affinity  # no quota files: the affinity
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert available_cores(tmp_path) == affinity
    (tmp_path / "cpu.max").write_text("50000 100000\n")  # half a CPU: one core
    assert available_cores(tmp_path) == 1
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("150000\n")  # cgroup v1, 1.5 CPUs
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert available_cores(tmp_path) == min(affinity, 2)
    assert worker_count(Settings(), 3).workers == 3
    assert worker_count(Settings(workers=1), 3).workers == 1
