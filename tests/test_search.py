"""solutions.search: log-uniform sampling, grid and random search, narrowing, the table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from solutions.search import (
    LogUniform,
    Trial,
    best_trial,
    coarse_to_fine,
    grid_search,
    narrow_space,
    random_search,
    rank_trials,
    run_trial,
    sample_params,
    trials_table,
)

pytestmark = pytest.mark.foundation


def peaked_at_1e_minus_3(lr: float, **_: object) -> float:
    """Known objective: maximal (0) at lr = 1e-3, falls off in log space."""
    return -((math.log10(lr) + 3.0) ** 2)


# --- sampling ---------------------------------------------------------------


def test_log_uniform_gives_each_decade_the_same_share() -> None:
    rng = np.random.default_rng(0)
    values = np.array([LogUniform(1e-5, 1e-1).sample(rng) for _ in range(20_000)])
    assert values.min() >= 1e-5 and values.max() <= 1e-1
    exponents = np.log10(values)
    np.testing.assert_allclose(np.quantile(exponents, [0.25, 0.5, 0.75]), [-4, -3, -2], atol=0.05)
    counts, _ = np.histogram(exponents, bins=[-5, -4, -3, -2, -1])
    np.testing.assert_allclose(counts / len(values), 0.25, atol=0.02)  # uniform values: ~90% in the last decade


def test_log_uniform_sample_is_one_uniform_draw_of_the_exponent() -> None:
    value = LogUniform(1e-4, 1.0).sample(np.random.default_rng(3))
    exponent = np.random.default_rng(3).uniform(-4.0, 0.0)
    assert type(value) is float and value == pytest.approx(10.0**exponent, rel=1e-12)


@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (-1.0, 1.0), (1e-2, 1e-3), (1e-3, 1e-3), (1e-3, math.inf)])
def test_log_uniform_rejects_bad_ranges(low: float, high: float) -> None:
    with pytest.raises(ValueError, match="LogUniform"):
        LogUniform(low, high)


def test_sample_params_passes_constants_through() -> None:
    params = sample_params({"lr": LogUniform(1e-3, 1e-2), "epochs": 3}, np.random.default_rng(0))
    assert params["epochs"] == 3 and 1e-3 <= params["lr"] <= 1e-2


# --- running trials ---------------------------------------------------------


def test_grid_search_covers_the_product_last_name_fastest() -> None:
    grid = {"lr": [1e-3, 1e-2, 1e-1], "weight_decay": [0.0, 1e-4]}
    trials = grid_search(lambda lr, weight_decay: lr - weight_decay, grid)
    assert [tuple(t.params.values()) for t in trials] == [(lr, wd) for lr in grid["lr"] for wd in grid["weight_decay"]]
    assert [t.index for t in trials] == list(range(6))
    assert best_trial(trials).params == {"lr": 1e-1, "weight_decay": 0.0}


def test_random_search_is_deterministic_by_seed_and_finds_the_optimum() -> None:
    space = {"lr": LogUniform(1e-6, 1.0)}
    first = random_search(peaked_at_1e_minus_3, space, n_trials=60, seed=0)
    again = random_search(peaked_at_1e_minus_3, space, n_trials=60, seed=0)
    other = random_search(peaked_at_1e_minus_3, space, n_trials=60, seed=1)
    assert [t.params for t in first] == [t.params for t in again] != [t.params for t in other]
    best = best_trial(first)
    assert abs(math.log10(best.params["lr"]) + 3.0) < 0.3
    assert best.metrics == {"val_acc": best.score}  # a float objective is stored under the score key
    assert all(t.seconds >= 0 for t in first)


def test_dict_objective_is_scored_by_score_key() -> None:
    def objective(lr: float) -> dict:
        return {"val_acc": 1.0 - lr, "train_acc": np.float64(lr), "history": {"epoch": [1]}}

    trials = grid_search(objective, {"lr": [0.1, 0.5]})
    assert best_trial(trials).params["lr"] == 0.1 and best_trial(trials).score == pytest.approx(0.9)
    assert type(trials[0].metrics["train_acc"]) is float  # a np.float64 would promote float32 arrays
    assert trials[0].metrics["history"] == {"epoch": [1]}
    assert best_trial(grid_search(objective, {"lr": [0.1, 0.5]}, score_key="train_acc")).params["lr"] == 0.5
    with pytest.raises(KeyError, match="loss"):
        grid_search(objective, {"lr": [0.1]}, score_key="loss")


def test_diverged_runs_are_kept_but_never_best() -> None:
    def objective(lr: float) -> float:
        if lr > 0.5:
            return math.nan
        if lr > 0.2:
            with np.errstate(over="raise"):
                np.exp(np.float32(1000.0))  # FloatingPointError
        if lr > 0.15:
            return math.inf  # not finite: diverged too
        return lr

    trials = grid_search(objective, {"lr": [0.9, 0.3, 0.17, 0.1, 0.01]})
    assert [t.diverged for t in trials] == [True, True, True, False, False]
    assert trials[1].error is not None and "FloatingPointError" in trials[1].error
    assert [t.params["lr"] for t in rank_trials(trials)[:2]] == [0.1, 0.01]
    assert best_trial(trials).params["lr"] == 0.1
    with pytest.raises(ValueError, match="finite"):
        best_trial(trials[:3])


def test_other_exceptions_are_bugs_and_propagate() -> None:
    def buggy(lr: float) -> float:
        raise ValueError("shape mismatch")

    with pytest.raises(ValueError, match="shape mismatch"):
        run_trial(buggy, {"lr": 0.1})


# --- narrowing --------------------------------------------------------------


def trial(index: int, score: float, **params: float) -> Trial:
    return Trial(params=dict(params), score=score, metrics={"val_acc": score}, index=index)


def test_narrow_space_known_values() -> None:
    space = {"lr": LogUniform(1e-6, 1.0), "epochs": 3}
    trials = [trial(0, 0.9, lr=1e-3), trial(1, 0.8, lr=1e-2), trial(2, 0.1, lr=1e-6), trial(3, math.nan, lr=1.0)]
    narrowed = narrow_space(trials, space, top_k=2, margin=0.0)
    assert (narrowed["lr"].low, narrowed["lr"].high) == pytest.approx((1e-3, 1e-2))
    assert narrowed["epochs"] == 3
    widened = narrow_space(trials, space, top_k=2, margin=0.1)  # 0.1 of 6 decades on each side
    assert (math.log10(widened["lr"].low), math.log10(widened["lr"].high)) == pytest.approx((-3.6, -1.4))
    clipped = narrow_space(trials, space, top_k=3, margin=0.1)  # 1e-6 joins: clipped to the old low end
    assert clipped["lr"].low == 1e-6


def test_narrow_space_around_a_single_value_keeps_a_valid_range() -> None:
    narrowed = narrow_space([trial(0, 1.0, lr=1e-2)], {"lr": LogUniform(1e-4, 1e-1)}, top_k=1, margin=0.0)
    assert narrowed["lr"].low < 1e-2 < narrowed["lr"].high


def test_narrow_space_errors() -> None:
    space = {"lr": LogUniform(1e-4, 1e-1)}
    with pytest.raises(ValueError, match="finite"):
        narrow_space([trial(0, math.nan, lr=1e-3)], space)
    with pytest.raises(ValueError, match="top_k"):
        narrow_space([trial(0, 1.0, lr=1e-3)], space, top_k=0)


def test_coarse_to_fine_narrows_each_round_and_improves() -> None:
    space = {"lr": LogUniform(1e-6, 1.0)}
    trials, spaces = coarse_to_fine(peaked_at_1e_minus_3, space, rounds=3, trials_per_round=15, seed=0, top_k=4)
    assert len(trials) == 45 and len(spaces) == 3 and spaces[0] == space
    assert [t.index for t in trials] == list(range(45))
    widths = [math.log10(s["lr"].high / s["lr"].low) for s in spaces]
    assert widths[0] > widths[1] > widths[2]
    for round_index, round_space in enumerate(spaces):
        for t in trials[15 * round_index : 15 * (round_index + 1)]:
            assert round_space["lr"].low <= t.params["lr"] <= round_space["lr"].high
    assert best_trial(trials).score >= best_trial(trials[:15]).score
    assert abs(math.log10(best_trial(trials).params["lr"]) + 3.0) < 0.1
    again, _ = coarse_to_fine(peaked_at_1e_minus_3, space, rounds=3, trials_per_round=15, seed=0, top_k=4)
    assert [t.params for t in again] == [t.params for t in trials]


# --- the table --------------------------------------------------------------


def test_trials_table_best_first_with_the_diverged_last() -> None:
    trials = [trial(0, 0.5, lr=1e-3), trial(1, math.nan, lr=1.0), trial(2, 0.9, lr=2e-4)]
    trials[1].metrics, trials[1].error = {}, "FloatingPointError: overflow"
    lines = trials_table(trials).splitlines()
    assert lines[0].split() == ["rank", "trial", "lr", "val_acc", "seconds", "note"]
    assert set(lines[1]) <= {"-", " "} and len(lines) == 2 + 3
    assert [line.split()[1] for line in lines[2:]] == ["2", "0", "1"]
    assert [line.split()[2] for line in lines[2:]] == ["2.00e-04", "1.00e-03", "1.00e+00"]  # one style per column
    assert [line.split()[3] for line in lines[2:]] == ["0.9", "0.5", "nan"]
    assert "FloatingPointError" in lines[4] and "FloatingPointError" not in lines[2]
    end = lines[0].index("val_acc") + len("val_acc")
    assert all(line[end - 1] != " " and line[end] == " " for line in lines)  # right-aligned columns
    assert len(trials_table(trials, max_rows=1).splitlines()) == 3
