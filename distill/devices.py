"""Where models run, said once: the device training and evaluation use (CUDA when present, as the
trainer picks it), putting models there as a whole, the device named for people in reports, and,
under torchrun, which process is the main one (it alone writes files and evaluates)."""

from __future__ import annotations

import os

import torch


def compute_device() -> torch.device:
    """The device `distill.distillation_trainer` trains on and the pipeline evaluates on."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def place(device: torch.device | str, *models: torch.nn.Module) -> None:
    """Move every model, all of its modules, to `device` (a trainer moves only what it trains)."""
    for model in models:
        model.to(device)


def describe(device: torch.device | str) -> str:
    """The device in words: `cuda (NVIDIA H200)`, `cpu (2 threads)`."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type


def is_main_process() -> bool:
    """True in the process of rank 0 of a torchrun launch, and in a process started alone."""
    return int(os.environ.get("RANK", "0")) == 0


def barrier() -> None:
    """Wait for every process of a torchrun launch (nothing to wait for in a process started alone)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
