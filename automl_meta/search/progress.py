"""The progress bar of a search (tqdm on stderr): trials, time against budget, best score."""

from __future__ import annotations

import time
from typing import Any


class SearchProgress:
    """Progress display; silent when ``enabled`` is false."""

    def __init__(self, enabled: bool, n_trials: int | None, time_budget: float | None,
                 metric: str):
        self.enabled = enabled
        self.metric = metric
        self.time_budget = time_budget
        self.start = time.monotonic()
        self.done = 0
        self.failed = 0
        self._bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=n_trials, unit="trial", desc="automl-meta", leave=True,
                             dynamic_ncols=True)

    def update(self, ok: bool, best: float | None) -> None:
        self.done += 1
        self.failed += 0 if ok else 1
        if self._bar is None:
            return
        elapsed = time.monotonic() - self.start
        budget = f"/{self.time_budget:.0f}s" if self.time_budget else "s"
        postfix = f"{elapsed:.0f}{budget}"
        if best is not None:
            postfix += f" best {self.metric}={best:.4f}"
        if self.failed:
            postfix += f" failed={self.failed}"
        self._bar.set_postfix_str(postfix, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
