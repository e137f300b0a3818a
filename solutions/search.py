"""Hyperparameter search (하이퍼파라미터 탐색): grid search, random search, coarse to fine.

The procedure of seed 004 (and Bergstra & Bengio 2012):

0. Give every hyperparameter a range: the *search space*.
1. Sample values from it at random. A scale-like hyperparameter (learning rate,
   weight decay) is sampled uniformly in *log* space (``LogUniform``), so that
   1e-5..1e-4 gets as many trials as 1e-2..1e-1.
2. Train briefly with each sample and score it on validation data.
3. Narrow the ranges around the best trials (``narrow_space``) and repeat.

An *objective* ``objective(**params)`` trains a model and returns its score,
either a float or a dict of metrics such as ``{"val_acc": 0.91, "train_acc": 0.95}``
whose ``score_key`` entry is the score. Scores are **maximized**. A run that
diverged returns NaN (or raises ``FloatingPointError``): its trial is kept with
score NaN, and it never wins.

A search space is a dict ``name -> LogUniform(low, high)``; any other value is a
constant, passed to the objective unchanged.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Objective = Callable[..., Any]


@dataclass(frozen=True)
class LogUniform:
    """A positive float drawn uniformly in log space: ``10 ** U(log10 low, log10 high)``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0.0 < self.low < self.high < math.inf:
            raise ValueError(f"LogUniform needs 0 < low < high < inf, got low={self.low!r}, high={self.high!r}")

    def sample(self, rng: np.random.Generator) -> float:
        """One value, a Python float in [low, high] (one call to ``rng.uniform``)."""
        exponent = rng.uniform(math.log10(self.low), math.log10(self.high))
        return float(min(max(10.0**exponent, self.low), self.high))


@dataclass
class Trial:
    """One evaluated setting.

    Attributes:
        params: the hyperparameters passed to the objective.
        score: the value being maximized; NaN when the run diverged.
        metrics: what the objective returned, as a dict (a float score is stored under the score key).
        index: the trial's position in the search, from 0.
        seconds: wall time of the objective call.
        error: the error message when the run raised ``FloatingPointError`` or ``OverflowError``.
    """

    params: dict[str, Any]
    score: float
    metrics: dict[str, Any] = field(default_factory=dict)
    index: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def diverged(self) -> bool:
        return math.isnan(self.score)


def run_trial(objective: Objective, params: Mapping[str, Any], *, index: int = 0, score_key: str = "val_acc") -> Trial:
    """Call ``objective(**params)`` once and record it.

    A ``FloatingPointError`` or ``OverflowError``, or a non-finite score, means the
    run diverged (score NaN). Any other exception is a bug, not a bad
    hyperparameter, and propagates.
    """
    start = time.perf_counter()
    try:
        result = objective(**params)
    except (FloatingPointError, OverflowError) as error:
        seconds = time.perf_counter() - start
        return Trial(dict(params), math.nan, {}, index, seconds, f"{type(error).__name__}: {error}")
    seconds = time.perf_counter() - start
    metrics = dict(result) if isinstance(result, Mapping) else {score_key: result}
    if score_key not in metrics:
        raise KeyError(f"the objective returned {sorted(metrics)} without the score key {score_key!r}")
    metrics = {name: float(v) if isinstance(v, int | float | np.number) else v for name, v in metrics.items()}
    score = metrics[score_key]
    return Trial(dict(params), score if math.isfinite(score) else math.nan, metrics, index, seconds)


def grid_search(objective: Objective, grid: Mapping[str, Sequence[Any]], *, score_key: str = "val_acc") -> list[Trial]:
    """Evaluate every combination of the grid's values (the last name varies fastest).

    Example: ``{"lr": [1e-3, 1e-2, 1e-1], "weight_decay": [0.0, 1e-4]}`` runs 3 x 2 = 6 trials.
    """
    names = list(grid)
    combinations = itertools.product(*(grid[name] for name in names))
    return [
        run_trial(objective, dict(zip(names, values, strict=True)), index=index, score_key=score_key)
        for index, values in enumerate(combinations)
    ]


def sample_params(space: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """One setting drawn from a space: each ``LogUniform`` sampled (in key order), constants copied."""
    return {name: value.sample(rng) if isinstance(value, LogUniform) else value for name, value in space.items()}


def random_search(
    objective: Objective,
    space: Mapping[str, Any],
    n_trials: int,
    seed: int | np.random.Generator = 0,
    *,
    score_key: str = "val_acc",
    start_index: int = 0,
) -> list[Trial]:
    """Evaluate ``n_trials`` settings sampled from ``space``; the same seed gives the same settings."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return [
        run_trial(objective, sample_params(space, rng), index=start_index + i, score_key=score_key)
        for i in range(n_trials)
    ]


def rank_trials(trials: Sequence[Trial]) -> list[Trial]:
    """Best first; diverged (NaN) trials last. Ties keep their order."""
    return sorted(trials, key=lambda t: (t.diverged, 0.0 if t.diverged else -t.score))


def best_trial(trials: Sequence[Trial]) -> Trial:
    """The trial with the highest finite score."""
    ranked = rank_trials(trials)
    if not ranked or ranked[0].diverged:
        raise ValueError("best_trial: no trial has a finite score")
    return ranked[0]


def narrow_space(trials: Sequence[Trial], space: Mapping[str, Any], top_k: int = 5, margin: float = 0.1) -> dict:
    """The "fine" step of coarse to fine: shrink each ``LogUniform`` around the best trials.

    For every ``LogUniform`` the new range spans, in log10 space, the values of the
    ``top_k`` best trials (NaN trials ignored), widened on each side by ``margin``
    times the old log10 width, and clipped to the old range. Constants are kept.

    Returns:
        A new space with the same names.
    """
    if top_k < 1:
        raise ValueError(f"narrow_space: top_k must be >= 1, got {top_k}")
    top = [t for t in rank_trials(trials) if not t.diverged][:top_k]
    if not top:
        raise ValueError("narrow_space: no trial has a finite score, so there is nothing to narrow around")
    narrowed: dict[str, Any] = {}
    for name, value in space.items():
        if not isinstance(value, LogUniform):
            narrowed[name] = value
            continue
        logs = [math.log10(t.params[name]) for t in top]
        old_low, old_high = math.log10(value.low), math.log10(value.high)
        pad = margin * (old_high - old_low)
        low, high = max(min(logs) - pad, old_low), min(max(logs) + pad, old_high)
        if high <= low:  # a single best value and no margin: keep a sliver of the old width
            pad = 0.005 * (old_high - old_low)
            low, high = max(low - pad, old_low), min(high + pad, old_high)
        narrowed[name] = LogUniform(max(10.0**low, value.low), min(10.0**high, value.high))
    return narrowed


def coarse_to_fine(
    objective: Objective,
    space: Mapping[str, Any],
    rounds: int = 3,
    trials_per_round: int = 10,
    seed: int = 0,
    top_k: int = 5,
    *,
    margin: float = 0.1,
    score_key: str = "val_acc",
) -> tuple[list[Trial], list[dict[str, Any]]]:
    """Random search in rounds, narrowing the space around the best trials so far after each round.

    Returns:
        (trials, spaces): all ``rounds * trials_per_round`` trials (round r holds the
        indices r * trials_per_round ...) and the space each round sampled from.
    """
    rng = np.random.default_rng(seed)  # one stream for all rounds
    trials: list[Trial] = []
    spaces = [dict(space)]
    for round_index in range(rounds):
        if round_index > 0:
            spaces.append(narrow_space(trials, spaces[-1], top_k=top_k, margin=margin))
        trials += random_search(
            objective, spaces[-1], trials_per_round, rng, score_key=score_key, start_index=len(trials)
        )
    return trials, spaces


def trials_table(trials: Sequence[Trial], max_rows: int | None = None) -> str:
    """The trials as a fixed-width text table, best first (print it).

    Columns: rank, trial index, every parameter, every numeric metric, seconds,
    and a note for the trials that diverged.
    """
    rows = rank_trials(trials)[:max_rows]
    params = list(dict.fromkeys(name for t in rows for name in t.params))
    metrics = list(dict.fromkeys(name for t in rows for name, v in t.metrics.items() if isinstance(v, float)))
    columns = [("rank", [str(rank) for rank in range(1, len(rows) + 1)]), ("trial", [str(t.index) for t in rows])]
    columns += [(name, _format_column([t.params.get(name) for t in rows])) for name in params]
    columns += [(name, _format_column([t.metrics.get(name, math.nan) for t in rows])) for name in metrics]
    columns.append(("seconds", [f"{t.seconds:.2f}" for t in rows]))
    if any(t.diverged for t in rows):
        columns.append(("note", [(t.error or "diverged") if t.diverged else "" for t in rows]))
    widths = [max([len(header), *map(len, cells)]) for header, cells in columns]
    lines = [[header for header, _ in columns], ["-" * width for width in widths]]
    lines += [[cells[row] for _, cells in columns] for row in range(len(rows))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def _format_column(values: list[Any]) -> list[str]:
    """Floats in one style per column: 2.00e-04 if any is tiny or huge (learning rates), else 4 digits."""
    finite = [abs(v) for v in values if isinstance(v, float) and math.isfinite(v) and v != 0.0]
    style = ".2e" if any(v < 1e-3 or v >= 1e5 for v in finite) else ".4g"
    return [format(v, style) if isinstance(v, float) else str(v) for v in values]
