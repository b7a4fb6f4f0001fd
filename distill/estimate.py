"""How long training will take on the device it runs on: the first optimiser steps are timed and
the rest predicted from them (a fixed rate measured on one machine says nothing about another)."""

from __future__ import annotations

import time
from collections.abc import Callable

from transformers import TrainerCallback

from distill.devices import describe


def duration(seconds: float) -> str:
    """`45 s`, `3.2 min`, `1.5 h`."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class StepTimer(TrainerCallback):
    """Times `count` optimiser steps after the first `skip` (start-up, allocator and kernel warm-up)
    and says once how long the steps left will take at that rate."""

    def __init__(self, stage: str, say: Callable[[str], None], skip: int = 2, count: int = 5):
        self.stage, self.say, self.skip, self.count = stage, say, skip, count
        self.first: int | None = None  # the step training started from (after a resume, not 0)
        self.started: float | None = None
        self.seconds_per_step: float | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.first = state.global_step

    def on_step_end(self, args, state, control, **kwargs):
        done = state.global_step - (self.first or 0)
        if done == self.skip:
            self.started = time.perf_counter()
        elif done == self.skip + self.count and self.started is not None:
            self.seconds_per_step = (time.perf_counter() - self.started) / self.count
            left = max(0, state.max_steps - state.global_step)
            self.say(f"{self.stage}: {self.seconds_per_step:.3f} s per step on {describe(args.device)} "
                     f"(timed over {self.count} steps); about {duration(left * self.seconds_per_step)} "
                     f"for the {left} steps left")
