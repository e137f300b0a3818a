"""Chapter 5 (regularization): the notebook's reference answers, the library pieces the chapter
combines them with, and the known values of the lecture notes (seeds 000, 002, 003, 004).

The answers are taken from chapters/05_regularization.ipynb (its setup cell and answer cells),
so a change to the notebook's reference solution is tested here too.
"""

from __future__ import annotations

import numpy as np
import pytest
from chapter_tools import answer_namespace

from solutions import gradcheck, layers, losses, network, optim

pytestmark = pytest.mark.ch05

CHAPTER = "05_regularization"
ANSWERS = ["weight_decay_answer", "dropout_forward_answer", "dropout_backward_answer", "focal_loss_answer"]


@pytest.fixture(scope="module")
def ns() -> dict:
    return answer_namespace(CHAPTER, ANSWERS)


# ---------------------------------------------------------------------------
# Weight decay (seed 000) and the library's weight decay, the L2 penalty of the loss
# ---------------------------------------------------------------------------


def test_weight_decay_is_seed_000_rule(ns):
    W = np.array([[1.0, -2.0], [0.5, 4.0]], dtype=np.float32)
    delta = np.array([[0.1, 0.1], [-0.5, 0.0]], dtype=np.float32)
    got = ns["weight_decay_update"](W, delta, 0.1)
    np.testing.assert_allclose(got, (W + delta) * 0.9, rtol=1e-7)
    assert got.dtype == np.float32
    with pytest.raises(ValueError):
        ns["weight_decay_update"](W, delta, 1.0)


def one_layer_gradients(W, lam, x, t):
    """dE/dW of a one-layer softmax network with weights W and the library's weight decay lam."""
    net = network.Sequential([layers.Affine(W.copy(), np.zeros(W.shape[1]))], weight_decay_lambda=lam)
    return net.gradients(x, t)[1]["W1"]


@pytest.mark.parametrize("lr, eps", [(0.1, 0.001), (0.5, 0.05), (1.0, 0.2)])
def test_weight_decay_is_library_weight_decay_with_the_equivalent_lambda(ns, lr, eps):
    """The chapter's claim: one lecture step equals one SGD step, learning rate lr (1 - eps),
    on the L2-penalized loss."""
    rng = np.random.default_rng(int(1000 * lr + 10 * eps))
    W, x, t = rng.standard_normal((6, 4)), rng.standard_normal((9, 6)), rng.integers(0, 4, 9)
    lam = ns["l2_lambda_equivalent"](lr, eps)
    assert isinstance(lam, float)
    lecture = ns["weight_decay_update"](W, -lr * one_layer_gradients(W, 0.0, x, t), eps)
    library = W.copy()
    optim.SGD(lr=lr * (1 - eps)).update({"W": library}, {"W": one_layer_gradients(W, lam, x, t)})
    np.testing.assert_allclose(lecture, library, rtol=1e-12, atol=1e-12)


def test_library_weight_decay_with_eps_over_lr_matches_the_lecture_up_to_second_order(ns):
    """The idea: W - lr (g + lambda W) with lambda = eps / lr differs from the lecture's rule by eps lr g."""
    rng = np.random.default_rng(7)
    W, x, t = rng.standard_normal((3, 3)), rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    lr, eps = 0.1, 0.001
    library = W.copy()
    optim.SGD(lr=lr).update({"W": library}, {"W": one_layer_gradients(W, eps / lr, x, t)})
    lecture = ns["weight_decay_update"](W, -lr * one_layer_gradients(W, 0.0, x, t), eps)
    np.testing.assert_allclose(lecture - library, lr * eps * one_layer_gradients(W, 0.0, x, t), atol=1e-12)


# ---------------------------------------------------------------------------
# Inverted dropout
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("drop_prob", [0.1, 0.5, 0.9])
def test_dropout_forward_keeps_the_units_the_hint_describes(ns, dtype, drop_prob):
    """Kept where u >= drop_prob, u = rng.random(shape, dtype=float32); kept units scaled by 1 / keep_prob."""
    x = np.random.default_rng(100).standard_normal((7, 11)).astype(dtype)
    x_copy = x.copy()
    out, mask = ns["dropout_forward"](x, drop_prob, np.random.default_rng(3))
    keep = np.random.default_rng(3).random(x.shape, dtype=np.float32) >= drop_prob
    np.testing.assert_allclose(mask, keep / (1.0 - drop_prob), rtol=1e-6)
    np.testing.assert_allclose(out, x * mask, rtol=1e-6)
    assert out.dtype == dtype and mask.dtype == dtype
    np.testing.assert_array_equal(x, x_copy)


@pytest.mark.parametrize("drop_prob, train", [(0.5, False), (0.0, True), (0.0, False)])
def test_dropout_forward_passes_through_when_nothing_is_dropped(ns, drop_prob, train):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    out, mask = ns["dropout_forward"](x, drop_prob, np.random.default_rng(0), train=train)
    np.testing.assert_array_equal(out, x)
    assert mask is None


@pytest.mark.parametrize("drop_prob", [1.0, -0.1, 1.5])
def test_dropout_forward_rejects_bad_drop_prob(ns, drop_prob):
    with pytest.raises(ValueError):
        ns["dropout_forward"](np.ones((2, 2), dtype=np.float32), drop_prob, np.random.default_rng(0))


def test_dropout_backward_is_the_gradient_of_dropout_forward(ns):
    rng = np.random.default_rng(3)
    x, dout = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    _, mask = ns["dropout_forward"](x, 0.3, np.random.default_rng(11))
    numeric = gradcheck.numerical_gradient(
        lambda v: ns["dropout_forward"](v, 0.3, np.random.default_rng(11))[0], x, dout
    )
    assert gradcheck.relative_error(ns["dropout_backward"](dout, mask), numeric) < 1e-8
    np.testing.assert_array_equal(ns["dropout_backward"](dout, None), dout)


def test_dropout_keeps_the_expected_activation(ns):
    """Inverted dropout: E[out] = x, and about keep_prob of the units survive."""
    x = np.full((500, 400), 3.0, dtype=np.float32)
    out, _ = ns["dropout_forward"](x, 0.3, np.random.default_rng(11))
    assert abs(np.mean(out != 0) - 0.7) < 0.01
    assert abs(float(out.mean()) - 3.0) < 0.03


def test_seed_003_expected_activation_by_monte_carlo(ns):
    """Seed 003: E[a] = 1/2 (w1 x + w2 y) with 0/1 masks (original dropout); inverted dropout keeps w.x."""
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


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("alpha", [None, 0.25])
def test_library_focal_loss_backward_is_the_gradient_of_the_answer(ns, gamma, alpha):
    """The chapter trains with the pair (your focal_loss, losses.focal_loss_backward): they must belong together."""
    rng = np.random.default_rng(int(10 * gamma) + (0 if alpha is None else 1))
    z, t = 2 * rng.standard_normal((12, 2)), rng.integers(0, 2, 12)
    got = ns["focal_loss"](z, t, gamma=gamma, alpha=alpha)
    assert isinstance(got, float)
    numeric = gradcheck.numerical_gradient(lambda v: ns["focal_loss"](v, t, gamma=gamma, alpha=alpha), z)
    assert gradcheck.relative_error(losses.focal_loss_backward(z, t, gamma=gamma, alpha=alpha), numeric) < 1e-7


def test_focal_loss_with_gamma_zero_is_cross_entropy(ns):
    rng = np.random.default_rng(5)
    z = (2 * rng.standard_normal((20, 7))).astype(np.float32)
    t = rng.integers(0, 7, 20)
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
