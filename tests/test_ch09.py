"""Chapter 9 (babysitting and hyperparameter search): the reference answers, seed 003's numbers
explained with the library's network, and the chapter's measured claims (including that its
narrow_log_range and solutions.search.narrow_space give the same box, which the chapter prints)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from chapter_tools import ROOT, answer_namespace, read_chapter

from autograder.release.citations import plain_citations
from solutions import search
from solutions.data import load_mnist, subset, train_test_split
from solutions.network import build_mlp
from solutions.optim import SGD
from solutions.train import train

pytestmark = pytest.mark.ch09

CHAPTER = "09_hyperparameters"
ANSWERS = ["initial_loss_answer", "log_uniform_answer", "narrow_answer"]

# seed 003 (cs231n's two-layer net on CIFAR-10): first loss without and with reg = 1e3
SEED003_NO_REG = 2.30261216167
SEED003_REG = 3.06859716482


@pytest.fixture(scope="module")
def ns():
    return answer_namespace(CHAPTER, ANSWERS)


@pytest.fixture(scope="module")
def mnist_split():
    """The chapter's data: 2,000 training and 1,000 validation images from the training set."""
    (x, y), _ = load_mnist()
    x_pool, y_pool = subset(x, y, 3000, seed=0)
    return train_test_split(x_pool, y_pool, test_fraction=1 / 3, seed=0)


# --- part 1: the first loss --------------------------------------------------


def test_seed_003_penalty_is_that_of_3072_50_10_weights_of_std_1e_4():
    """Seed 003's two first losses differ by (lambda/2) sum ||W||^2 of its network, lambda = 1e3."""
    net = build_mlp(3072, [50], 10, init=1e-4, seed=0, weight_decay_lambda=1e3)
    n_weights = 3072 * 50 + 50 * 10
    relative_std = math.sqrt(2 / n_weights)  # chi-square: the std of a sum of squares over its mean
    assert net.penalty() == pytest.approx(SEED003_REG - SEED003_NO_REG, rel=3 * relative_std)


@pytest.mark.parametrize("lam", [0.0, 1.0, 1e3])
@pytest.mark.parametrize("hidden", [[50], [100, 100]])
def test_expected_initial_loss_matches_a_small_init_network(ns, mnist_split, lam, hidden):
    x_train, _, y_train, _ = mnist_split
    net = build_mlp(784, hidden, 10, init=1e-4, seed=3, weight_decay_lambda=lam)
    weights = [W for name, W in net.params.items() if name.startswith("W")]
    predicted = ns["expected_initial_loss"](10, weights, lam)
    assert type(predicted) is float
    assert net.loss(x_train, y_train) == pytest.approx(predicted, abs=1e-4)
    assert predicted == pytest.approx(math.log(10) + net.penalty(), rel=1e-6)


def test_expected_initial_loss_rises_with_regularization(ns):
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((30, 20)).astype(np.float32)]
    values = [ns["expected_initial_loss"](10, weights, lam) for lam in (0.0, 0.1, 1.0, 10.0)]
    assert values[0] == pytest.approx(math.log(10))
    assert all(a < b for a, b in zip(values, values[1:], strict=False))


# --- part 2: log-uniform sampling --------------------------------------------


@pytest.mark.parametrize("size", [None, 7, (3, 4)])
def test_log_uniform_is_one_uniform_draw_of_the_exponent(ns, size):
    ours = ns["log_uniform"](1e-5, 1e-1, size=size, rng=np.random.default_rng(2))
    rng = np.random.default_rng(2)
    np.testing.assert_allclose(ours, 10.0 ** rng.uniform(-5.0, -1.0, size=size), rtol=1e-12)
    if size is None:
        assert type(ours) is float
    else:
        assert ours.dtype == np.float64 and ours.shape == np.empty(size).shape
    # exactly one call: the generator has moved on by one draw of that size, no more
    follower = np.random.default_rng(2)
    follower.uniform(size=size)
    after = np.random.default_rng(2)
    ns["log_uniform"](1e-5, 1e-1, size=size, rng=after)
    assert after.random() == follower.random()


def test_log_uniform_gives_each_decade_the_same_share(ns):
    exponents = np.log10(ns["log_uniform"](1e-8, 1.0, size=40_000, rng=np.random.default_rng(0)))
    assert exponents.min() >= -8 and exponents.max() <= 0
    np.testing.assert_allclose(np.histogram(exponents, bins=np.arange(-8, 1))[0] / 40_000, 1 / 8, atol=0.01)


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-1.0, 1.0), (1.0, 1.0), (2.0, 1.0)])
def test_log_uniform_rejects_bad_ranges(ns, low, high):
    with pytest.raises(ValueError):
        ns["log_uniform"](low, high, size=3, rng=np.random.default_rng(0))


# --- part 3: narrowing ---------------------------------------------------------


def _trials(values, scores):
    return [
        search.Trial(params={"lr": float(v)}, score=float(s), index=i)
        for i, (v, s) in enumerate(zip(values, scores, strict=True))
    ]


@pytest.mark.parametrize("seed", range(20))
def test_narrow_log_range_equals_solutions_narrow_space(ns, seed):
    rng = np.random.default_rng(seed)
    low, high = 10.0 ** rng.uniform(-8, -3), 10.0 ** rng.uniform(-2, 2)
    n = int(rng.integers(2, 25))
    values = 10.0 ** rng.uniform(math.log10(low), math.log10(high), n)
    scores = rng.permutation(n) / n + 0.01  # distinct scores: no ties at the top_k boundary
    scores[rng.random(n) < 0.2] = np.nan
    if np.all(np.isnan(scores)):
        scores[0] = 0.5
    top_k = int(rng.integers(1, 8))
    margin = float(rng.uniform(0.01, 0.5))
    ours = ns["narrow_log_range"](values, scores, low, high, top_k=top_k, margin=margin)
    narrowed = search.narrow_space(
        _trials(values, scores), {"lr": search.LogUniform(low, high)}, top_k=top_k, margin=margin
    )
    assert all(type(v) is float for v in ours)
    np.testing.assert_allclose(ours, (narrowed["lr"].low, narrowed["lr"].high), rtol=1e-12)
    assert low <= ours[0] < ours[1] <= high


def test_narrow_log_range_rejects_all_nan(ns):
    with pytest.raises(ValueError):
        ns["narrow_log_range"]([1e-3, 1e-2], [np.nan, np.nan], 1e-4, 1.0)


# --- the chapter's demonstrations -----------------------------------------------


def test_the_grid_of_nine_tries_three_learning_rates_and_random_search_nine():
    def objective(lr, weight_decay):
        return -abs(math.log10(lr) + 0.7)

    grid = search.grid_search(objective, {"lr": [1e-3, 10 ** -1.5, 1.0], "weight_decay": [1e-5, 10 ** -2.5, 1.0]})
    box = {"lr": search.LogUniform(1e-3, 1.0), "weight_decay": search.LogUniform(1e-5, 1.0)}
    random = search.random_search(objective, box, n_trials=9, seed=0)
    assert len({t.params["lr"] for t in grid}) == 3
    assert len({t.params["lr"] for t in random}) == 9


@pytest.mark.slow
def test_learning_rate_extremes_on_the_chapters_network(mnist_split):
    x_train, _, y_train, _ = mnist_split
    last = {}
    for lr in (1e-6, 1e-1, 1e3):
        net = build_mlp(784, [100, 100], 10, init="he", seed=0)
        with np.errstate(over="ignore", invalid="ignore"):
            history = train(net, SGD(lr=lr), x_train, y_train, epochs=3, batch_size=50, seed=0,
                            progress=False, on_nonfinite="stop")
        last[lr] = history
    flat = last[1e-6]["step_loss"]
    assert abs(np.mean(flat[-10:]) - np.mean(flat[:10])) < 0.1  # too low: the loss barely moves
    assert np.mean(last[1e-1]["step_loss"][-10:]) < 0.6  # good: it falls
    assert "nan" in last[1e3]["stopped"] and len(last[1e3]["step_loss"]) < 10  # too high: NaN, stopped early


@pytest.mark.slow
def test_overfitting_twenty_samples_reaches_100_percent(mnist_split):
    x_train, _, y_train, _ = mnist_split
    x_tiny, y_tiny = subset(x_train, y_train, 20, seed=0)
    net = build_mlp(784, [100, 100], 10, init="he", seed=0)
    history = train(net, SGD(lr=0.1), x_tiny, y_tiny, epochs=60, batch_size=20, seed=0, progress=False)
    assert history["train_acc"][-1] == 1.0 and history["train_loss"][-1] < 0.05


@pytest.mark.slow
def test_random_search_beats_the_grid_on_the_chapters_objective(mnist_split):
    x_train, x_val, y_train, y_val = mnist_split

    def objective(lr, weight_decay):
        net = build_mlp(784, [100], 10, init="he", seed=0, weight_decay_lambda=weight_decay)
        with np.errstate(over="ignore", invalid="ignore"):
            history = train(net, SGD(lr=lr), x_train, y_train, x_val, y_val, epochs=2, batch_size=50,
                            seed=0, progress=False, on_nonfinite="stop")
        return math.nan if "stopped" in history else history["val_acc"][-1]

    grid = search.grid_search(objective, {"lr": [1e-3, 10 ** -1.5, 1.0], "weight_decay": [1e-5, 10 ** -2.5, 1.0]})
    box = {"lr": search.LogUniform(1e-3, 1.0), "weight_decay": search.LogUniform(1e-5, 1.0)}
    random = search.random_search(objective, box, n_trials=9, seed=0)
    assert search.best_trial(random).score > search.best_trial(grid).score + 0.03


def test_chapter_states_the_seed_numbers_and_its_total():
    text = "\n".join(cell.source for cell in read_chapter(CHAPTER).cells if cell.cell_type == "markdown")
    text = plain_citations(text, ROOT / "book" / "references.bib")  # {cite:p}`key` -> (Author Year)
    for needle in ("2.30261216167", "3.06859716482", "12 points", "Bergstra & Bengio 2012", "전이 학습"):
        assert needle in text, needle
