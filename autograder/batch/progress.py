"""The batch's one progress bar: notebooks done, failed and remaining, and an ETA (tqdm)."""

from __future__ import annotations

import sys

from tqdm import tqdm

from autograder.grade.submission import ERROR, MISSING, UNREADABLE, Result


class Progress:
    """One tqdm bar for the batch: notebooks done, failed (not gradable or grading failed), remaining, and an ETA.

    Results reused from an earlier run count as done from the start, and not in the rate (ETA).
    """

    def __init__(self, total: int, already: list[Result], what: str, enabled: bool) -> None:
        self.total = total
        self.failed = sum(1 for r in already if r.status in (UNREADABLE, MISSING, ERROR))
        self.done = len(already) - self.failed
        self.bar = tqdm(
            total=total,
            initial=len(already),
            desc=f"grading {what}",
            unit="notebook",
            disable=not enabled,
            file=sys.stderr,
            dynamic_ncols=True,
        )
        self._show()

    def _show(self) -> None:
        remaining = self.total - self.done - self.failed
        self.bar.set_postfix_str(f"done {self.done}, failed {self.failed}, remaining {remaining}")

    def update(self, result: Result) -> None:
        if result.status in (UNREADABLE, MISSING, ERROR):
            self.failed += 1
        else:
            self.done += 1
        self._show()
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
