"""Chapter 5 (regularization): the notebook's reference answers agree with `solutions`,
and the known values of the lecture notes (seeds 000, 002, 003, 004) hold.

The answers are taken from chapters/05_regularization.ipynb (its setup cell and answer cells),
so a change to the notebook's reference solution is tested here too.
"""

from __future__ import annotations

import numpy as np
import pytest

from chapter_tools import answer_namespace
from solutions import layers, losses, optim

pytestmark = pytest.mark.ch05

CHAPTER = "05_regularization"
ANSWERS = ["weight_decay_answer", "dropout_forward_answer", "dropout_backward_answer", "focal_loss_answer"]


@pytest.fixture(scope="module")
def ns() -> dict:
    return answer_namespace(CHAPTER, ANSWERS)


# ---------------------------------------------------------------------------
# Weight decay (seed 000) and its relation to the L2 gradient (solutions.optim)
# ---------------------------------------------------------------------------


def test_weight_decay_is_seed_000_rule(ns):
    W = np.array([[1.0, -2.0], [0.5, 4.0]], dtype=np.float32)
    delta = np.array([[0.1, 0.1], [-0.5, 0.0]], dtype=np.float32)
    got = ns["weight_decay_update"](W, delta, 0.1)
    np.testing.assert_allclose(got, (W + delta) * 0.9, rtol=1e-7)
    assert got.dtype == np.float32
    with pytest.raises(ValueError):
        ns["weight_decay_update"](W, delta, 1.0)


@pytest.mark.parametrize("lr, eps", [(0.1, 0.001), (0.5, 0.05), (1.0, 0.2), (0.01, 0.0)])
def test_weight_decay_equals_library_sgd_with_l2(ns, lr, eps):
    """One lecture step with Delta W = -lr g equals optim.SGD(lr (1 - eps), weight_decay=lambda)."""
    rng = np.random.default_rng(int(1000 * lr + 10 * eps))
    W = rng.standard_normal((6, 4))
    g = rng.standard_normal((6, 4))
    lam = ns["l2_lambda_equivalent"](lr, eps)
    assert isinstance(lam, float)
    lecture = ns["weight_decay_update"](W, -lr * g, eps)
    library = W.copy()
    optim.SGD(lr=lr * (1 - eps), weight_decay=lam).update({"W": library}, {"W": g})
    np.testing.assert_allclose(lecture, library, rtol=1e-12, atol=1e-12)


def test_library_weight_decay_matches_lecture_up_to_second_order(ns):
    """solutions.optim's docstring: SGD with weight_decay = eps / lr differs from the lecture by lr * eps * g."""
    rng = np.random.default_rng(7)
    W, g = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    lr, eps = 0.1, 0.001
    library = W.copy()
    optim.SGD(lr=lr, weight_decay=eps / lr).update({"W": library}, {"W": g})
    lecture = ns["weight_decay_update"](W, -lr * g, eps)
    np.testing.assert_allclose(lecture - library, lr * eps * g, atol=1e-12)


# ---------------------------------------------------------------------------
# Inverted dropout
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("drop_prob", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dropout_forward_matches_library(ns, dtype, drop_prob, seed):
    x = np.random.default_rng(100 + seed).standard_normal((7, 11)).astype(dtype)
    x_copy = x.copy()
    out, mask = ns["dropout_forward"](x, drop_prob, np.random.default_rng(seed))
    ref_out, ref_mask = layers.dropout_forward(x, drop_prob, np.random.default_rng(seed))
    np.testing.assert_allclose(out, ref_out, rtol=1e-6)
    np.testing.assert_allclose(mask, ref_mask, rtol=1e-6)
    assert out.dtype == dtype and mask.dtype == dtype
    np.testing.assert_array_equal(x, x_copy)


@pytest.mark.parametrize("drop_prob, train", [(0.5, False), (0.0, True), (0.0, False)])
def test_dropout_forward_passes_through_when_nothing_is_dropped(ns, drop_prob, train):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    out, mask = ns["dropout_forward"](x, drop_prob, np.random.default_rng(0), train=train)
    ref_out, ref_mask = layers.dropout_forward(x, drop_prob, np.random.default_rng(0), train=train)
    np.testing.assert_array_equal(out, ref_out)
    assert mask is None and ref_mask is None


@pytest.mark.parametrize("drop_prob", [1.0, -0.1, 1.5])
def test_dropout_forward_rejects_bad_drop_prob_like_library(ns, drop_prob):
    x = np.ones((2, 2), dtype=np.float32)
    with pytest.raises(ValueError):
        ns["dropout_forward"](x, drop_prob, np.random.default_rng(0))
    with pytest.raises(ValueError):
        layers.dropout_forward(x, drop_prob, np.random.default_rng(0))


def test_dropout_backward_matches_library(ns):
    rng = np.random.default_rng(3)
    dout = rng.standard_normal((5, 4)).astype(np.float32)
    _, mask = layers.dropout_forward(rng.standard_normal((5, 4)).astype(np.float32), 0.3, rng)
    np.testing.assert_allclose(ns["dropout_backward"](dout, mask), layers.dropout_backward(dout, mask), rtol=1e-7)
    np.testing.assert_array_equal(ns["dropout_backward"](dout, None), layers.dropout_backward(dout, None))


def test_dropout_keeps_the_expected_activation(ns):
    """Inverted dropout: E[out] = x, and about keep_prob of the units survive."""
    x = np.full((500, 400), 3.0, dtype=np.float32)
    out, _ = ns["dropout_forward"](x, 0.3, np.random.default_rng(11))
    assert abs(np.mean(out != 0) - 0.7) < 0.01
    assert abs(float(out.mean()) - 3.0) < 0.03


# ---------------------------------------------------------------------------
# Seed 003: E[a] = 1/2 (w1 x + w2 y) for one neuron with inputs dropped with probability 1/2
# ---------------------------------------------------------------------------


def test_seed_003_expected_activation_by_enumeration():
    w1, w2, x, y = 0.4, 0.3, 2.0, 1.0
    masks = [(1, 1), (1, 0), (0, 0), (0, 1)]
    expected = sum(0.25 * (m1 * w1 * x + m2 * w2 * y) for m1, m2 in masks)
    assert expected == pytest.approx(0.5 * (w1 * x + w2 * y))


def test_seed_003_expected_activation_by_monte_carlo(ns):
    """Original dropout (0/1 masks) averages keep_prob (w.x); inverted dropout averages w.x."""
    w = np.array([0.4, 0.3], dtype=np.float32)
    inputs = np.tile(np.array([2.0, 1.0], dtype=np.float32), (400_000, 1))
    out, mask = ns["dropout_forward"](inputs, 0.5, np.random.default_rng(0))
    inverted = out @ w
    original = (out * 0.5) @ w  # the 0/1 mask of original dropout is keep_prob * (inverted mask)
    assert float(inverted.mean()) == pytest.approx(1.1, abs=0.005)
    assert float(original.mean()) == pytest.approx(0.55, abs=0.003)
    assert set(np.unique(mask).tolist()) == {0.0, 2.0}


# ---------------------------------------------------------------------------
# Focal loss (Lin et al. 2017)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
@pytest.mark.parametrize("alpha", [None, 0.25, 0.9])
def test_focal_loss_matches_library(ns, gamma, alpha):
    rng = np.random.default_rng(int(10 * gamma) + (0 if alpha is None else int(100 * alpha)))
    z = (3 * rng.standard_normal((16, 2))).astype(np.float32)
    t = rng.integers(0, 2, 16)
    got = ns["focal_loss"](z, t, gamma=gamma, alpha=alpha)
    assert isinstance(got, float)
    assert got == pytest.approx(losses.focal_loss(z, t, gamma=gamma, alpha=alpha), rel=1e-5)


def test_focal_loss_many_classes_and_cross_entropy(ns):
    rng = np.random.default_rng(5)
    z = (2 * rng.standard_normal((20, 7))).astype(np.float32)
    t = rng.integers(0, 7, 20)
    assert ns["focal_loss"](z, t, gamma=1.5) == pytest.approx(losses.focal_loss(z, t, gamma=1.5), rel=1e-5)
    assert ns["focal_loss"](z, t, gamma=0.0) == pytest.approx(losses.softmax_cross_entropy(z, t), rel=1e-5)


def test_focal_loss_is_stable_for_huge_logits(ns):
    z = np.array([[1000.0, 0.0], [0.0, 1000.0]], dtype=np.float32)
    value = ns["focal_loss"](z, np.array([0, 0]), gamma=2.0)
    assert np.isfinite(value) and value == pytest.approx(500.0, rel=1e-6)


def test_focal_factor_from_lin_et_al():
    """gamma = 2: an example with p_t = 0.9 counts 100 times less than under cross-entropy."""
    z = np.log(np.array([[0.9, 0.1]]))
    ratio = losses.focal_loss(z, np.array([0]), gamma=2.0) / losses.softmax_cross_entropy(z, np.array([0]))
    assert ratio == pytest.approx(0.01)


# ---------------------------------------------------------------------------
# Seeds 002 and 004: the L1 / L2 conventions
# ---------------------------------------------------------------------------


def test_seed_004_penalty_inside_the_mean_equals_seed_002_with_twice_lambda():
    rng = np.random.default_rng(9)
    weights = [rng.standard_normal((4, 3)), rng.standard_normal((3, 2))]
    per_sample_loss = rng.random(10)
    lam_004 = 0.3
    l1 = sum(np.abs(W).sum() for W in weights)
    l2 = sum((W * W).sum() for W in weights)
    # seed 004: 1/n sum_i {L_i + lambda |w|}; seed 002: E + lambda/2 |w| with E the mean loss
    cost_004_l1 = np.mean(per_sample_loss + lam_004 * l1)
    cost_004_l2 = np.mean(per_sample_loss + lam_004 * l2)
    E = per_sample_loss.mean()
    assert cost_004_l1 == pytest.approx(E + losses.l1_penalty(weights, 2 * lam_004))
    assert cost_004_l2 == pytest.approx(E + losses.l2_penalty(weights, 2 * lam_004))


def test_bootstrap_keeps_about_63_percent_distinct_rows():
    n = 1000
    assert 1 - (1 - 1 / n) ** n == pytest.approx(1 - np.exp(-1), abs=2e-4)
    draws = np.random.default_rng(0).integers(0, n, size=(200, n))
    distinct = np.mean([len(np.unique(row)) for row in draws]) / n
    assert distinct == pytest.approx(0.632, abs=0.005)
