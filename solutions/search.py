"""Hyperparameter search: grid search, random search and coarse-to-fine narrowing.

The procedure (Bergstra & Bengio, 2012, "Random Search for Hyper-Parameter
Optimization"; DLFS ch. 6.5):

0. Set a range for every hyperparameter (a *search space*).
1. Sample values at random from those ranges. Scale-like hyperparameters
   (learning rate, weight decay) are sampled uniformly in *log* space, so that
   1e-5..1e-4 gets as many trials as 1e-2..1e-1.
2. Train for a few epochs with each sample and evaluate on validation data.
3. Repeat, and narrow the ranges around the best trials (coarse to fine).

Random search beats grid search when only a few hyperparameters matter: a grid
of 9 trials tries only 3 distinct learning rates, 9 random trials try 9.

An *objective* is any function ``objective(**params)`` that trains a model and
returns either a float score or a dict of metrics such as
``{"val_acc": 0.91, "train_acc": 0.95}``. Scores are **maximized**; to minimize
a loss, return ``-loss`` (or a dict and pick ``score_key``).

Example:
    >>> space = {"lr": LogUniform(1e-4, 1e-1), "weight_decay": LogUniform(1e-8, 1e-3)}
    >>> trials = random_search(objective, space, n_trials=20, seed=0)  # doctest: +SKIP
    >>> print(trials_table(trials))  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "LogUniform",
    "Uniform",
    "Choice",
    "IntUniform",
    "Dimension",
    "Trial",
    "log_uniform",
    "sample_params",
    "run_trial",
    "grid_search",
    "random_search",
    "rank_trials",
    "best_trial",
    "narrow_space",
    "coarse_to_fine",
    "trials_table",
]


# ---------------------------------------------------------------------------
# Search-space dimensions
# ---------------------------------------------------------------------------


def _check_rng(rng: Any, where: str) -> np.random.Generator:
    """Raise a clear error unless ``rng`` is a ``np.random.Generator``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"search.{where}: rng must be a np.random.Generator "
            f"(e.g. np.random.default_rng(0)), got {type(rng).__name__}"
        )
    return rng


def _make_rng(seed: int | np.random.Generator, where: str) -> np.random.Generator:
    """Turn a seed int (or an existing Generator) into a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"search.{where}: seed must be an int or a np.random.Generator, "
        f"got {type(seed).__name__}"
    )


def _check_finite_number(value: Any, name: str, where: str) -> float:
    """Return ``value`` as a Python float, or raise if it is not a finite number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"search.{where}: {name} must be a number, got {value!r}"
        ) from None
    if not math.isfinite(number):
        raise ValueError(f"search.{where}: {name} must be finite, got {value!r}")
    return number


@dataclass(frozen=True)
class LogUniform:
    """A positive float sampled uniformly in log space: ``10 ** U(log10 low, log10 high)``.

    Use it for scale-like hyperparameters (learning rate, weight decay).

    Attributes:
        low: smallest value, ``0 < low``.
        high: largest value, ``low < high``.
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        low = _check_finite_number(self.low, "low", "LogUniform")
        high = _check_finite_number(self.high, "high", "LogUniform")
        if not 0.0 < low < high:
            raise ValueError(
                f"search.LogUniform: requires 0 < low < high, got low={low!r}, high={high!r}"
            )
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one value as a Python float."""
        _check_rng(rng, "LogUniform.sample")
        exponent = rng.uniform(math.log10(self.low), math.log10(self.high))
        return float(min(max(10.0**exponent, self.low), self.high))


@dataclass(frozen=True)
class Uniform:
    """A float sampled uniformly from ``[low, high)``.

    Attributes:
        low: smallest value.
        high: upper end, ``low < high``.
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        low = _check_finite_number(self.low, "low", "Uniform")
        high = _check_finite_number(self.high, "high", "Uniform")
        if not low < high:
            raise ValueError(
                f"search.Uniform: requires low < high, got low={low!r}, high={high!r}"
            )
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def sample(self, rng: np.random.Generator) -> float:
        """Draw one value as a Python float."""
        _check_rng(rng, "Uniform.sample")
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class IntUniform:
    """An integer sampled uniformly from ``low..high`` (both ends included).

    Use it for counts: hidden units, number of layers, batch-size exponents.

    Attributes:
        low: smallest value.
        high: largest value, ``low <= high``.
    """

    low: int
    high: int

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(
                    f"search.IntUniform: {name} must be an int, got {value!r}"
                )
            object.__setattr__(self, name, int(value))
        if not self.low <= self.high:
            raise ValueError(
                f"search.IntUniform: requires low <= high, got low={self.low}, high={self.high}"
            )

    def sample(self, rng: np.random.Generator) -> int:
        """Draw one value as a Python int."""
        _check_rng(rng, "IntUniform.sample")
        return int(rng.integers(self.low, self.high, endpoint=True))


@dataclass(frozen=True)
class Choice:
    """One of a fixed list of options, each equally likely.

    Attributes:
        options: the candidate values (stored as a tuple), at least one.
    """

    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        if isinstance(self.options, (str, bytes)) or not isinstance(self.options, Iterable):
            raise TypeError(
                "search.Choice: options must be a list or tuple of values, "
                f"got {self.options!r}"
            )
        options = tuple(self.options)
        if not options:
            raise ValueError("search.Choice: options must not be empty")
        object.__setattr__(self, "options", options)

    def sample(self, rng: np.random.Generator) -> Any:
        """Draw one option (NumPy scalars are converted to Python numbers)."""
        _check_rng(rng, "Choice.sample")
        return _to_python(self.options[int(rng.integers(len(self.options)))])


Dimension = LogUniform | Uniform | IntUniform | Choice
"""Any search-space dimension. A space is ``dict[str, Dimension | constant]``:
values that are not dimensions are passed to the objective unchanged."""


def _is_dimension(value: Any) -> bool:
    return isinstance(value, (LogUniform, Uniform, IntUniform, Choice))


def _to_python(value: Any) -> Any:
    """Convert NumPy scalars to Python scalars (np.float64 would promote float32 arrays)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def log_uniform(
    low: float,
    high: float,
    size: int | tuple[int, ...] | None = None,
    *,
    rng: np.random.Generator | int,
) -> float | np.ndarray:
    """Sample ``10 ** U(log10 low, log10 high)``: uniform in log space.

    Args:
        low: smallest value, ``0 < low``.
        high: largest value, ``low < high``.
        size: ``None`` for a single Python float, else the output shape.
        rng: a ``np.random.Generator`` or a seed int.

    Returns:
        A Python float when ``size is None``, else a float64 array of shape
        ``size``. Convert array elements with ``float()`` before using them as
        hyperparameters (a np.float64 scalar promotes float32 arrays).
    """
    dim = LogUniform(low, high)  # validates low/high
    generator = _make_rng(rng, "log_uniform")
    exponents = generator.uniform(math.log10(dim.low), math.log10(dim.high), size=size)
    values = np.clip(10.0**exponents, dim.low, dim.high)
    if size is None:
        return float(values)
    return values


def sample_params(space: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """Draw one hyperparameter setting from a search space.

    Args:
        space: name -> dimension (``LogUniform``, ``Uniform``, ``IntUniform``,
            ``Choice``) or a constant passed through unchanged.
        rng: the random generator.

    Returns:
        name -> sampled value (Python scalars), in the space's key order.
    """
    _check_rng(rng, "sample_params")
    return {
        name: dim.sample(rng) if _is_dimension(dim) else dim for name, dim in space.items()
    }


# ---------------------------------------------------------------------------
# Trials
# ---------------------------------------------------------------------------


@dataclass
class Trial:
    """One evaluated hyperparameter setting.

    Attributes:
        params: the hyperparameters passed to the objective.
        score: the value being maximized; ``nan`` when the run diverged
            (non-finite result or a ``FloatingPointError``/``OverflowError``).
        metrics: everything the objective returned (numbers as Python floats;
            non-numeric entries such as a training history are kept as-is).
        index: position of the trial in the search (0-based).
        seconds: wall time of the objective call.
        error: the error message when the objective raised, else ``None``.
    """

    params: dict[str, Any]
    score: float
    metrics: dict[str, Any] = field(default_factory=dict)
    index: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def diverged(self) -> bool:
        """True when the score is NaN (the run blew up)."""
        return math.isnan(self.score)


def _as_float(value: Any) -> float | None:
    """Return ``value`` as a Python float if it is a real number (or 0-d array), else None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
        return float(value)
    return None


def _score_from_result(result: Any, score_key: str) -> tuple[float, dict[str, Any]]:
    """Split an objective's return value into (score, metrics)."""
    number = _as_float(result)
    if number is not None:
        metrics: dict[str, Any] = {score_key: number}
        score = number
    elif isinstance(result, Mapping):
        metrics = {}
        for key, value in result.items():
            as_number = _as_float(value)
            metrics[str(key)] = as_number if as_number is not None else value
        if score_key not in metrics:
            raise KeyError(
                f"search: the objective returned metrics {sorted(metrics)} "
                f"without the score key {score_key!r}; pass score_key=... to choose one"
            )
        score = _as_float(metrics[score_key])
        if score is None:
            raise TypeError(
                f"search: metric {score_key!r} returned by the objective must be a "
                f"number, got {metrics[score_key]!r}"
            )
    else:
        raise TypeError(
            "search: the objective must return a float score or a dict of metrics, "
            f"got {type(result).__name__}"
        )
    if not math.isfinite(score):  # inf or nan: the run diverged
        score = math.nan
    return score, metrics


def run_trial(
    objective: Callable[..., Any],
    params: Mapping[str, Any],
    *,
    index: int = 0,
    score_key: str = "val_acc",
) -> Trial:
    """Call ``objective(**params)`` once and record the result as a ``Trial``.

    A run that returns a non-finite score or raises ``FloatingPointError`` /
    ``OverflowError`` (e.g. under ``np.errstate(all="raise")``) becomes a trial
    with score ``nan``; any other exception propagates (it is a bug, not a
    bad hyperparameter).

    Args:
        objective: ``objective(**params) -> float | dict[str, float]``.
        params: the hyperparameters.
        index: the trial's position in the search.
        score_key: which metric is the score when the objective returns a dict.

    Returns:
        The recorded trial.
    """
    params = dict(params)
    start = time.perf_counter()
    try:
        result = objective(**params)
    except (FloatingPointError, OverflowError) as exc:
        seconds = time.perf_counter() - start
        return Trial(
            params=params,
            score=math.nan,
            metrics={},
            index=index,
            seconds=seconds,
            error=f"{type(exc).__name__}: {exc}",
        )
    seconds = time.perf_counter() - start
    score, metrics = _score_from_result(result, score_key)
    return Trial(params=params, score=score, metrics=metrics, index=index, seconds=seconds)


def _progress(iterable: Iterable[Any], enabled: bool, total: int, desc: str) -> Iterable[Any]:
    """Wrap ``iterable`` in a tqdm bar when ``enabled``."""
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc)


def _grid_points(grid: Mapping[str, Sequence[Any]]) -> Iterator[dict[str, Any]]:
    """Yield every combination of the grid's values (last key varies fastest)."""
    names = list(grid)
    for values in itertools.product(*(grid[name] for name in names)):
        yield {name: _to_python(value) for name, value in zip(names, values)}


def grid_search(
    objective: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]],
    *,
    score_key: str = "val_acc",
    progress: bool = False,
) -> list[Trial]:
    """Evaluate the objective on every combination of the grid values.

    Args:
        objective: ``objective(**params) -> float | dict[str, float]``.
        grid: name -> list of values to try, e.g. ``{"lr": [1e-3, 1e-2], "wd": [0, 1e-4]}``.
        score_key: which metric is the score when the objective returns a dict.
        progress: show a tqdm progress bar.

    Returns:
        One trial per combination (``prod(len(values))`` trials), in grid order.
    """
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError("search.grid_search: grid must be a non-empty dict name -> list of values")
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise ValueError(
                f"search.grid_search: grid[{name!r}] must be a non-empty list of values, got {values!r}"
            )
    total = math.prod(len(values) for values in grid.values())
    points = _progress(_grid_points(grid), progress, total, "grid search")
    return [
        run_trial(objective, params, index=index, score_key=score_key)
        for index, params in enumerate(points)
    ]


def random_search(
    objective: Callable[..., Any],
    space: Mapping[str, Any],
    n_trials: int,
    seed: int | np.random.Generator = 0,
    *,
    score_key: str = "val_acc",
    progress: bool = False,
    start_index: int = 0,
) -> list[Trial]:
    """Evaluate the objective on ``n_trials`` settings sampled from ``space``.

    Args:
        objective: ``objective(**params) -> float | dict[str, float]``.
        space: name -> dimension (or a constant passed through unchanged).
        n_trials: number of settings to try, ``>= 1``.
        seed: seed int (same seed -> same settings) or a Generator.
        score_key: which metric is the score when the objective returns a dict.
        progress: show a tqdm progress bar.
        start_index: index of the first trial (used when chaining rounds).

    Returns:
        ``n_trials`` trials in the order they were run.
    """
    if not isinstance(space, Mapping) or not space:
        raise ValueError("search.random_search: space must be a non-empty dict name -> dimension")
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValueError(f"search.random_search: n_trials must be an int >= 1, got {n_trials!r}")
    rng = _make_rng(seed, "random_search")
    trials = []
    for offset in _progress(range(int(n_trials)), progress, int(n_trials), "random search"):
        params = sample_params(space, rng)
        trials.append(
            run_trial(objective, params, index=start_index + offset, score_key=score_key)
        )
    return trials


# ---------------------------------------------------------------------------
# Ranking and narrowing
# ---------------------------------------------------------------------------


def rank_trials(trials: Iterable[Trial]) -> list[Trial]:
    """Sort trials best first: highest score first, NaN trials last (ties keep order)."""

    def sort_key(trial: Trial) -> tuple[bool, float]:
        diverged = math.isnan(trial.score)
        return (diverged, 0.0 if diverged else -trial.score)

    return sorted(trials, key=sort_key)


def best_trial(trials: Iterable[Trial]) -> Trial:
    """Return the trial with the highest finite score (NaN trials never win).

    Raises:
        ValueError: if there are no trials or every trial diverged.
    """
    finite = [t for t in trials if not math.isnan(t.score)]
    if not finite:
        raise ValueError("search.best_trial: no trial has a finite score (all diverged or none run)")
    return rank_trials(finite)[0]


def _narrow_interval(
    values: Sequence[float], old_low: float, old_high: float, margin: float
) -> tuple[float, float]:
    """New [low, high] = span of ``values`` widened by ``margin * old width``, clipped."""
    old_width = old_high - old_low
    pad = margin * old_width
    low = max(min(values) - pad, old_low)
    high = min(max(values) + pad, old_high)
    if high <= low:  # all top values equal and no margin: keep a sliver of width
        centre = min(max(low, old_low), old_high)
        pad = 0.005 * old_width
        low, high = max(centre - pad, old_low), min(centre + pad, old_high)
    return low, high


def narrow_space(
    trials: Sequence[Trial],
    space: Mapping[str, Any],
    top_k: int = 5,
    margin: float = 0.1,
) -> dict[str, Any]:
    """Shrink a search space around the best trials (the "fine" step of coarse-to-fine).

    For every dimension, take the values used by the ``top_k`` best trials
    (NaN trials ignored) and:

    * ``LogUniform``: new range = min..max of those values in log10 space,
      widened on each side by ``margin`` times the old log10 width.
    * ``Uniform`` / ``IntUniform``: the same in linear space (rounded outward
      to ints for ``IntUniform``).
    * ``Choice``: keep only the options used by the top trials (original order).
    * constants: unchanged.

    New ranges are always clipped to the old ones, so the space never grows.

    Args:
        trials: evaluated trials; their ``params`` must contain every
            dimension name of ``space``.
        space: the space the trials were sampled from.
        top_k: how many of the best trials define the new ranges, ``>= 1``.
        margin: widening as a fraction of the old width (per side), ``>= 0``.

    Returns:
        A new space with the same keys.
    """
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"search.narrow_space: top_k must be an int >= 1, got {top_k!r}")
    margin = _check_finite_number(margin, "margin", "narrow_space")
    if margin < 0:
        raise ValueError(f"search.narrow_space: margin must be >= 0, got {margin}")
    finite = [t for t in trials if not math.isnan(t.score)]
    if not finite:
        raise ValueError(
            "search.narrow_space: no trial has a finite score, so there is nothing to narrow around"
        )
    top = rank_trials(finite)[: int(top_k)]

    new_space: dict[str, Any] = {}
    for name, dim in space.items():
        if not _is_dimension(dim):
            new_space[name] = dim
            continue
        missing = [t.index for t in top if name not in t.params]
        if missing:
            raise KeyError(
                f"search.narrow_space: trials {missing} have no parameter {name!r}; "
                "were they sampled from this space?"
            )
        values = [t.params[name] for t in top]
        if isinstance(dim, LogUniform):
            logs = [math.log10(float(v)) for v in values]
            low, high = _narrow_interval(logs, math.log10(dim.low), math.log10(dim.high), margin)
            new_space[name] = LogUniform(
                max(10.0**low, dim.low), min(10.0**high, dim.high)
            )
        elif isinstance(dim, Uniform):
            low, high = _narrow_interval([float(v) for v in values], dim.low, dim.high, margin)
            new_space[name] = Uniform(low, high)
        elif isinstance(dim, IntUniform):
            pad = margin * (dim.high - dim.low)
            low = max(math.floor(min(values) - pad), dim.low)
            high = min(math.ceil(max(values) + pad), dim.high)
            new_space[name] = IntUniform(int(low), int(high))
        else:  # Choice
            kept = tuple(option for option in dim.options if any(option == v for v in values))
            new_space[name] = Choice(kept if kept else dim.options)
    return new_space


def coarse_to_fine(
    objective: Callable[..., Any],
    space: Mapping[str, Any],
    rounds: int = 3,
    trials_per_round: int = 10,
    seed: int | np.random.Generator = 0,
    top_k: int = 5,
    *,
    margin: float = 0.1,
    score_key: str = "val_acc",
    progress: bool = False,
) -> tuple[list[Trial], list[dict[str, Any]]]:
    """Random search in rounds, narrowing the space around the best trials after each.

    Round ``r`` samples ``trials_per_round`` settings from ``spaces[r]``; the
    next space is ``narrow_space(all trials so far, spaces[r], top_k, margin)``.

    Args:
        objective: ``objective(**params) -> float | dict[str, float]``.
        space: the initial (coarse) space.
        rounds: number of rounds, ``>= 1``.
        trials_per_round: trials per round, ``>= 1``.
        seed: seed int or Generator (one stream drives all rounds).
        top_k: trials used to narrow the ranges.
        margin: widening of the narrowed ranges (fraction of the old width).
        score_key: which metric is the score when the objective returns a dict.
        progress: show a tqdm progress bar per round.

    Returns:
        ``(trials, spaces)``: all ``rounds * trials_per_round`` trials (index
        continues across rounds, so round = ``index // trials_per_round``) and
        the ``rounds`` spaces that were searched, ``spaces[0] == space``.
    """
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
        raise ValueError(f"search.coarse_to_fine: rounds must be an int >= 1, got {rounds!r}")
    rng = _make_rng(seed, "coarse_to_fine")
    current = dict(space)
    all_trials: list[Trial] = []
    spaces: list[dict[str, Any]] = []
    for round_index in range(int(rounds)):
        if round_index > 0:
            current = narrow_space(all_trials, current, top_k=top_k, margin=margin)
        spaces.append(current)
        all_trials += random_search(
            objective,
            current,
            trials_per_round,
            seed=rng,
            score_key=score_key,
            progress=progress,
            start_index=len(all_trials),
        )
    return all_trials, spaces


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------


def _format_column(values: Sequence[Any]) -> list[str]:
    """Format one table column.

    Floats share one style per column: scientific notation (``2.00e-04``) if
    any of them is tiny or huge (typical for learning rates), else 4
    significant digits. Missing values (``None``) are blank.
    """
    values = [_to_python(v) for v in values]
    floats = [v for v in values if isinstance(v, float) and math.isfinite(v) and v != 0.0]
    scientific = any(abs(v) < 1e-3 or abs(v) >= 1e5 for v in floats)
    cells = []
    for value in values:
        if value is None:
            cells.append("")
        elif isinstance(value, float) and math.isnan(value):
            cells.append("nan")
        elif isinstance(value, float):
            cells.append(f"{value:.2e}" if scientific else f"{value:.4g}")
        else:
            cells.append(str(value))
    return cells


def _repeats_score(trial: Trial, name: str) -> bool:
    """True if metric ``name`` of ``trial`` is just its score again (or absent because it diverged)."""
    value = trial.metrics.get(name)
    if value is None:
        return trial.diverged
    if not isinstance(value, float):
        return False
    return value == trial.score or (trial.diverged and not math.isfinite(value))


def trials_table(
    trials: Sequence[Trial],
    sort: bool = True,
    *,
    max_rows: int | None = None,
) -> str:
    """Format trials as a fixed-width text table, best first.

    Columns: rank, trial index, every parameter, the score, every other
    numeric metric, seconds; plus a note (``diverged`` or the error) when some
    trial has a NaN score. The score column is headed by the metric's name
    (e.g. ``val_acc``) when one metric is the score; that metric is not repeated.

    Args:
        trials: the trials to show.
        sort: best first (NaN last) if True, else in run order.
        max_rows: show at most this many rows (``None`` = all).

    Returns:
        The table as one string (print it).
    """
    rows = rank_trials(trials) if sort else list(trials)
    if max_rows is not None:
        rows = rows[:max_rows]
    param_names: list[str] = []
    metric_names: list[str] = []
    for trial in rows:
        for name in trial.params:
            if name not in param_names:
                param_names.append(name)
        for name, value in trial.metrics.items():
            if isinstance(value, float) and name not in metric_names:
                metric_names.append(name)
    score_names = [name for name in metric_names if all(_repeats_score(t, name) for t in rows)]
    score_header = "score"
    if len(score_names) == 1:  # that metric *is* the score: name the column after it
        score_header = score_names[0]
        metric_names.remove(score_header)

    columns: list[tuple[str, list[str]]] = [
        ("rank", [str(rank) for rank in range(1, len(rows) + 1)]),
        ("trial", [str(t.index) for t in rows]),
    ]
    columns += [(name, _format_column([t.params.get(name) for t in rows])) for name in param_names]
    columns.append((score_header, _format_column([t.score for t in rows])))
    columns += [(name, _format_column([t.metrics.get(name) for t in rows])) for name in metric_names]
    columns.append(("seconds", [f"{t.seconds:.2f}" for t in rows]))
    show_note = any(t.diverged for t in rows)
    if show_note:
        columns.append(("note", [(t.error or "diverged") if t.diverged else "" for t in rows]))

    widths = [max([len(header)] + [len(cell) for cell in cells]) for header, cells in columns]

    def fmt(line: list[str]) -> str:
        cells = [cell.rjust(width) for cell, width in zip(line, widths)]
        if show_note:  # the free-text note reads better left-aligned
            cells[-1] = line[-1]
        return "  ".join(cells).rstrip()

    lines = [fmt([header for header, _ in columns]), fmt(["-" * width for width in widths])]
    lines += [fmt([cells[row] for _, cells in columns]) for row in range(len(rows))]
    return "\n".join(lines)
