"""Tests for solutions.search: samplers, grid/random search, narrowing, reporting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from solutions.search import (
    Choice,
    IntUniform,
    LogUniform,
    Trial,
    Uniform,
    best_trial,
    coarse_to_fine,
    grid_search,
    log_uniform,
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


# --- samplers ---------------------------------------------------------------


def test_log_uniform_in_range_and_log_uniform_quartiles() -> None:
    values = log_uniform(1e-5, 1e-1, size=20_000, rng=np.random.default_rng(0))
    assert values.shape == (20_000,)
    assert values.min() >= 1e-5 and values.max() <= 1e-1
    exponents = np.log10(values)
    # uniform on [-5, -1]: quartiles at -4, -3, -2
    np.testing.assert_allclose(np.quantile(exponents, [0.25, 0.5, 0.75]), [-4, -3, -2], atol=0.05)
    # and each decade gets about a quarter of the samples (linear-uniform would give ~90% to the last)
    counts, _ = np.histogram(exponents, bins=[-5, -4, -3, -2, -1])
    np.testing.assert_allclose(counts / len(values), 0.25, atol=0.02)


def test_log_uniform_scalar_is_python_float_and_seeded() -> None:
    first = log_uniform(1e-4, 1.0, rng=3)
    assert type(first) is float
    assert first == log_uniform(1e-4, 1.0, rng=3)
    assert first != log_uniform(1e-4, 1.0, rng=4)


@pytest.mark.parametrize(
    ("low", "high"), [(0.0, 1.0), (-1.0, 1.0), (1e-2, 1e-3), (1e-3, 1e-3), (1e-3, math.inf)]
)
def test_log_uniform_rejects_bad_ranges(low: float, high: float) -> None:
    with pytest.raises(ValueError, match="LogUniform"):
        LogUniform(low, high)
    with pytest.raises(ValueError):
        log_uniform(low, high, rng=0)


def test_dimension_validation_messages() -> None:
    with pytest.raises(ValueError, match="low < high"):
        Uniform(1.0, 1.0)
    with pytest.raises(ValueError, match="low <= high"):
        IntUniform(5, 2)
    with pytest.raises(TypeError, match="int"):
        IntUniform(1.5, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        Choice([])
    with pytest.raises(TypeError, match="Generator"):
        Uniform(0, 1).sample(0)  # type: ignore[arg-type]


def test_dimension_samples_are_python_scalars_within_range() -> None:
    rng = np.random.default_rng(1)
    dims = {
        "lr": LogUniform(1e-4, 1e-1),
        "momentum": Uniform(0.5, 0.99),
        "hidden": IntUniform(16, 18),
        "act": Choice(["relu", "tanh"]),
        "batch": Choice(np.array([32, 64])),
    }
    seen_hidden = set()
    for _ in range(200):
        params = sample_params(dims, rng)
        assert type(params["lr"]) is float and 1e-4 <= params["lr"] <= 1e-1
        assert type(params["momentum"]) is float and 0.5 <= params["momentum"] < 0.99
        assert type(params["hidden"]) is int
        assert params["act"] in ("relu", "tanh")
        assert type(params["batch"]) is int  # np.int64 options come back as Python ints
        seen_hidden.add(params["hidden"])
    assert seen_hidden == {16, 17, 18}  # both ends included


def test_constants_in_space_pass_through() -> None:
    params = sample_params({"lr": LogUniform(1e-3, 1e-2), "epochs": 3}, np.random.default_rng(0))
    assert params["epochs"] == 3


# --- running trials ---------------------------------------------------------


def test_grid_search_covers_the_product() -> None:
    grid = {"lr": [1e-3, 1e-2, 1e-1], "weight_decay": [0.0, 1e-4]}
    trials = grid_search(lambda lr, weight_decay: lr - weight_decay, grid)
    assert len(trials) == 6
    combos = {(t.params["lr"], t.params["weight_decay"]) for t in trials}
    assert combos == {(lr, wd) for lr in grid["lr"] for wd in grid["weight_decay"]}
    assert [t.index for t in trials] == list(range(6))
    assert best_trial(trials).params == {"lr": 1e-1, "weight_decay": 0.0}


def test_grid_search_rejects_empty_values() -> None:
    with pytest.raises(ValueError, match="lr"):
        grid_search(lambda lr: lr, {"lr": []})


def test_random_search_is_deterministic_by_seed() -> None:
    space = {"lr": LogUniform(1e-5, 1e-1), "act": Choice(["relu", "tanh", "sigmoid"])}
    first = random_search(peaked_at_1e_minus_3, space, n_trials=8, seed=42)
    again = random_search(peaked_at_1e_minus_3, space, n_trials=8, seed=42)
    other = random_search(peaked_at_1e_minus_3, space, n_trials=8, seed=43)
    assert [t.params for t in first] == [t.params for t in again]
    assert [t.params for t in first] != [t.params for t in other]


def test_random_search_finds_the_optimum_region() -> None:
    space = {"lr": LogUniform(1e-6, 1.0)}
    trials = random_search(peaked_at_1e_minus_3, space, n_trials=60, seed=0)
    best = best_trial(trials)
    assert abs(math.log10(best.params["lr"]) + 3.0) < 0.3
    assert best.score == max(t.score for t in trials)
    # float objective: the score is also recorded under the score key
    assert best.metrics == {"val_acc": best.score}
    assert all(t.seconds >= 0 for t in trials)


def test_dict_objective_uses_score_key() -> None:
    def objective(lr: float) -> dict[str, float]:
        return {"val_acc": 1.0 - lr, "train_acc": np.float64(lr), "history": {"epoch": [1]}}

    trials = grid_search(objective, {"lr": [0.1, 0.5]})
    best = best_trial(trials)
    assert best.params["lr"] == 0.1
    assert best.score == pytest.approx(0.9)
    assert type(best.metrics["train_acc"]) is float
    assert best.metrics["history"] == {"epoch": [1]}  # non-numeric metrics kept

    by_train = grid_search(objective, {"lr": [0.1, 0.5]}, score_key="train_acc")
    assert best_trial(by_train).params["lr"] == 0.5

    with pytest.raises(KeyError, match="loss"):
        grid_search(objective, {"lr": [0.1]}, score_key="loss")


def test_nan_and_floating_point_errors_are_kept_but_never_best() -> None:
    def objective(lr: float) -> dict[str, float]:
        if lr > 0.5:
            return {"val_acc": float("nan")}
        if lr > 0.2:
            with np.errstate(over="raise"):
                np.exp(np.float32(1000.0))  # raises FloatingPointError
        if lr > 0.15:
            return {"val_acc": float("inf")}  # a non-finite score also counts as diverged
        return {"val_acc": lr}

    trials = grid_search(objective, {"lr": [0.9, 0.3, 0.17, 0.1, 0.01]})
    assert len(trials) == 5
    scores = [t.score for t in trials]
    assert all(math.isnan(s) for s in scores[:3])
    assert trials[1].error is not None and "FloatingPointError" in trials[1].error
    assert trials[0].diverged and not trials[3].diverged
    assert best_trial(trials).params["lr"] == 0.1
    ranked = rank_trials(trials)
    assert [t.params["lr"] for t in ranked[:2]] == [0.1, 0.01]
    assert all(t.diverged for t in ranked[2:])


def test_other_exceptions_propagate() -> None:
    def buggy(lr: float) -> float:
        raise ValueError("shape mismatch")

    with pytest.raises(ValueError, match="shape mismatch"):
        run_trial(buggy, {"lr": 0.1})


def test_best_trial_all_nan_raises() -> None:
    trials = grid_search(lambda lr: float("nan"), {"lr": [0.1, 0.2]})
    with pytest.raises(ValueError, match="finite"):
        best_trial(trials)


# --- narrowing --------------------------------------------------------------


def _trial(index: int, score: float, **params: object) -> Trial:
    return Trial(params=dict(params), score=score, metrics={"val_acc": score}, index=index)


def test_narrow_space_known_values() -> None:
    space = {
        "lr": LogUniform(1e-6, 1e0),
        "momentum": Uniform(0.0, 1.0),
        "hidden": IntUniform(10, 110),
        "act": Choice(["relu", "tanh", "sigmoid"]),
        "epochs": 3,
    }
    trials = [
        _trial(0, 0.9, lr=1e-3, momentum=0.8, hidden=50, act="tanh", epochs=3),
        _trial(1, 0.8, lr=1e-2, momentum=0.9, hidden=60, act="relu", epochs=3),
        _trial(2, 0.1, lr=1e-6, momentum=0.0, hidden=10, act="sigmoid", epochs=3),
        _trial(3, float("nan"), lr=1e0, momentum=1.0, hidden=110, act="sigmoid", epochs=3),
    ]
    narrowed = narrow_space(trials, space, top_k=2, margin=0.0)
    assert narrowed["lr"].low == pytest.approx(1e-3) and narrowed["lr"].high == pytest.approx(1e-2)
    assert (narrowed["momentum"].low, narrowed["momentum"].high) == pytest.approx((0.8, 0.9))
    assert (narrowed["hidden"].low, narrowed["hidden"].high) == (50, 60)
    assert narrowed["act"].options == ("relu", "tanh")  # original order, sigmoid dropped
    assert narrowed["epochs"] == 3

    # margin = 0.1 of the old (log) width on each side: 0.6 decades for lr
    widened = narrow_space(trials, space, top_k=2, margin=0.1)
    assert math.log10(widened["lr"].low) == pytest.approx(-3.6)
    assert math.log10(widened["lr"].high) == pytest.approx(-1.4)
    assert (widened["momentum"].low, widened["momentum"].high) == pytest.approx((0.7, 1.0))  # clipped
    assert (widened["hidden"].low, widened["hidden"].high) == (40, 70)


def test_narrow_space_shrinks_around_best_and_stays_inside() -> None:
    space = {"lr": LogUniform(1e-6, 1.0), "weight_decay": LogUniform(1e-8, 1e-2)}

    def objective(lr: float, weight_decay: float) -> float:
        return -((math.log10(lr) + 3.0) ** 2) - 0.01 * (math.log10(weight_decay) + 5.0) ** 2

    trials = random_search(objective, space, n_trials=40, seed=1)
    narrowed = narrow_space(trials, space, top_k=5, margin=0.05)
    best = best_trial(trials)
    for name, old in space.items():
        new = narrowed[name]
        assert old.low <= new.low < new.high <= old.high
        assert new.low <= best.params[name] <= new.high
    old_width = math.log10(space["lr"].high / space["lr"].low)
    new_width = math.log10(narrowed["lr"].high / narrowed["lr"].low)
    assert new_width < 0.5 * old_width
    assert narrowed["lr"].low < 1e-3 < narrowed["lr"].high


def test_narrow_space_single_value_keeps_a_valid_range() -> None:
    space = {"lr": LogUniform(1e-4, 1e-1), "x": Uniform(0.0, 1.0)}
    trials = [_trial(0, 1.0, lr=1e-2, x=0.5)]
    narrowed = narrow_space(trials, space, top_k=1, margin=0.0)
    assert narrowed["lr"].low < 1e-2 < narrowed["lr"].high
    assert narrowed["x"].low < 0.5 < narrowed["x"].high


def test_narrow_space_errors() -> None:
    space = {"lr": LogUniform(1e-4, 1e-1)}
    with pytest.raises(ValueError, match="finite"):
        narrow_space([_trial(0, float("nan"), lr=1e-3)], space)
    with pytest.raises(KeyError, match="lr"):
        narrow_space([_trial(0, 1.0, other=1)], space)
    with pytest.raises(ValueError, match="top_k"):
        narrow_space([_trial(0, 1.0, lr=1e-3)], space, top_k=0)


def test_coarse_to_fine_narrows_each_round_and_improves() -> None:
    space = {"lr": LogUniform(1e-6, 1.0), "act": Choice(["relu", "tanh"])}

    def objective(lr: float, act: str) -> dict[str, float]:
        bonus = 0.0 if act == "relu" else -10.0  # tanh is clearly worse
        return {"val_acc": -((math.log10(lr) + 3.0) ** 2) + bonus}

    trials, spaces = coarse_to_fine(
        objective, space, rounds=3, trials_per_round=15, seed=0, top_k=4, margin=0.05
    )
    assert len(trials) == 45 and len(spaces) == 3
    assert [t.index for t in trials] == list(range(45))
    assert spaces[0] == space
    widths = [math.log10(s["lr"].high / s["lr"].low) for s in spaces]
    assert widths[0] > widths[1] > widths[2]
    for round_index, round_space in enumerate(spaces):
        for trial in trials[15 * round_index : 15 * (round_index + 1)]:
            assert round_space["lr"].low <= trial.params["lr"] <= round_space["lr"].high
    assert spaces[2]["act"].options == ("relu",)
    first_round_best = best_trial(trials[:15]).score
    assert best_trial(trials).score >= first_round_best
    assert abs(math.log10(best_trial(trials).params["lr"]) + 3.0) < 0.1
    again, _ = coarse_to_fine(objective, space, rounds=3, trials_per_round=15, seed=0, top_k=4, margin=0.05)
    assert [t.params for t in again] == [t.params for t in trials]


# --- reporting --------------------------------------------------------------


def test_trials_table_best_first_with_nan_last() -> None:
    trials = [
        _trial(0, 0.5, lr=1e-3, act="relu"),
        _trial(1, float("nan"), lr=1.0, act="relu"),
        _trial(2, 0.9, lr=2e-4, act="tanh"),
    ]
    trials[1].metrics = {}
    trials[1].error = "FloatingPointError: overflow"
    table = trials_table(trials)
    lines = table.splitlines()
    # val_acc is the score, so it heads the score column and is not repeated
    assert lines[0].split() == ["rank", "trial", "lr", "act", "val_acc", "seconds", "note"]
    assert set(lines[1]) <= {"-", " "}
    assert len(lines) == 2 + 3
    assert [line.split()[1] for line in lines[2:]] == ["2", "0", "1"]  # trial index column
    assert [line.split()[2] for line in lines[2:]] == ["2.00e-04", "1.00e-03", "1.00e+00"]
    assert [line.split()[4] for line in lines[2:]] == ["0.9", "0.5", "nan"]
    assert "FloatingPointError" in lines[4] and "FloatingPointError" not in lines[2]
    # fixed width: the score column ends at the same position on every line
    end = lines[0].index("val_acc") + len("val_acc")
    assert all(line[end - 1] != " " and line[end] == " " for line in lines)
    unsorted = trials_table(trials, sort=False).splitlines()
    assert [line.split()[1] for line in unsorted[2:]] == ["0", "1", "2"]
    assert len(trials_table(trials, max_rows=1).splitlines()) == 3


def test_progress_bar_option_runs(capsys: pytest.CaptureFixture[str]) -> None:
    trials = random_search(peaked_at_1e_minus_3, {"lr": LogUniform(1e-4, 1e-2)}, 3, seed=0, progress=True)
    assert len(trials) == 3
    assert "random search" in capsys.readouterr().err
