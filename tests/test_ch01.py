"""Chapter 1 (gradient descent): the reference answers reproduce the seeds' numbers and known properties."""

import numpy as np
import pytest
from chapter_tools import answer_namespace

from solutions import gradcheck, losses

pytestmark = pytest.mark.ch01

CHAPTER = "01_gradient_descent"
ANSWERS = [
    "cross_entropy_answer",
    "numerical_derivative_answer",
    "gradient_descent_answer",
    "minibatch_epoch_answer",
]

# Seed 004's tables: w(0) ... w(10) and E(w(t)) as printed with '%f'.
SEED_004 = {
    0.4: (
        [5.0, -2.2, 7.88, -6.232, 13.5248, -14.13472, 24.588608, -29.624051, 46.273672, -59.98314, 88.776396],
        [32.0, 57.92, 108.7232, 208.297472, 403.463045, 785.987568, 1535.735634, 3005.241843, 5885.474012,
         11530.729064, 22595.428965],
    ),
    0.01: (
        [5.0, 4.82, 4.6508, 4.491752, 4.342247, 4.201712, 4.069609, 3.945433, 3.828707, 3.718984, 3.615845],
        [32.0, 28.8572, 26.080222, 23.626484, 21.458361, 19.542608, 17.849848, 16.354126, 15.032506, 13.864722,
         12.832869],
    ),
    0.1: (
        [5.0, 3.2, 2.48, 2.192, 2.0768, 2.03072, 2.012288, 2.004915, 2.001966, 2.000786, 2.000315],
        [32.0, 9.32, 5.6912, 5.110592, 5.017695, 5.002831, 5.000453, 5.000072, 5.000012, 5.000002, 5.0],
    ),
}


@pytest.fixture(scope="module")
def ns():
    return answer_namespace(CHAPTER, ANSWERS)


def test_cross_entropy_is_stable_and_two_logits_give_binary_cross_entropy(ns):
    z = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is harmless
        assert ns["cross_entropy"](z, np.array([0, 0])) == pytest.approx(1000.0)
    v = np.linspace(-20, 20, 41)
    t = (np.arange(41) % 2).astype(np.int64)
    two_logits = np.stack([np.zeros_like(v), v], axis=1)
    assert ns["cross_entropy"](two_logits, t) == pytest.approx(losses.binary_cross_entropy_with_logits(v, t), rel=1e-12)


def test_seed_001_derivative_numerically_and_analytically(ns):
    def E(w):
        return (w * 1 - 1) ** 2

    w = np.array([-2.0, 0.0, 0.5, 1.0, 3.0, 10.0])
    analytic = 2 * (w * 1 - 1)
    np.testing.assert_allclose(ns["forward_difference"](E, w), analytic + 1e-5, atol=1e-8)
    np.testing.assert_allclose(ns["centred_difference"](E, w), analytic, atol=1e-8)
    # seed 001's "increase by 1" is off by exactly 1
    np.testing.assert_allclose(ns["forward_difference"](E, w, 1.0), analytic + 1.0)


def test_centred_difference_is_second_order_accurate(ns):
    x_in, y_true = 2.0, 1.0

    def cost(w):
        return y_true * np.logaddexp(0.0, -w * x_in) + (1 - y_true) * np.logaddexp(0.0, w * x_in)

    points = np.linspace(-3, 3, 13)
    analytic = (1 / (1 + np.exp(-points * x_in)) - y_true) * x_in  # (sigma(wx) - y) x
    assert gradcheck.relative_error(ns["centred_difference"](cost, points), analytic) < 1e-8


@pytest.mark.parametrize("eta", [0.4, 0.01, 0.1])
def test_gradient_descent_reproduces_seed_004_tables(ns, eta):
    path = ns["gradient_descent"](lambda w: 6 * (w - 2), 5.0, eta, 10)
    w_table, e_table = SEED_004[eta]
    np.testing.assert_allclose(path, w_table, rtol=0, atol=5e-7)
    np.testing.assert_allclose(3 * (path - 2) ** 2 + 5, e_table, rtol=0, atol=5e-7)
    # step 10 as stated in the course issue
    assert round(float(path[10]), 6) == {0.4: 88.776396, 0.01: 3.615845, 0.1: 2.000315}[eta]


def test_gradient_descent_on_a_quadratic_has_the_closed_form(ns):
    # f(w) = sum a_i w_i^2 / 2 has gradient a * w, so every step multiplies w by (1 - eta a)
    a = np.array([0.1, 2.0])
    path = ns["gradient_descent"](lambda w: a * w, np.array([-7.0, 2.0]), 0.9, 20)
    expected = np.array([-7.0, 2.0]) * (1 - 0.9 * a) ** np.arange(21)[:, None]
    np.testing.assert_allclose(path, expected, rtol=1e-12, atol=1e-14)


def test_minibatch_epoch_takes_ceil_n_over_b_steps_and_one_full_batch_step_is_gradient_descent(ns):
    rng_data = np.random.default_rng(3)
    X = rng_data.standard_normal((23, 4)).astype(np.float32)
    y = rng_data.integers(0, 3, size=23)

    def softmax_regression(w, xb, yb):
        logits = xb @ w
        return losses.softmax_cross_entropy(logits, yb), xb.T @ losses.softmax_cross_entropy_backward(logits, yb)

    w0 = (0.1 * rng_data.standard_normal((4, 3))).astype(np.float32)
    for batch_size in (1, 5, 23, 100):
        w_new, step_losses = ns["minibatch_epoch"](
            w0, X, y, softmax_regression, 0.3, batch_size, np.random.default_rng(9)
        )
        assert w_new.dtype == np.float32
        assert len(step_losses) == -(-len(X) // batch_size)
        if batch_size >= len(X):  # one step on the whole set, whatever the order of its rows
            loss, grad = softmax_regression(w0, X, y)
            np.testing.assert_allclose(w_new, w0 - 0.3 * grad, rtol=1e-5, atol=1e-6)
            assert step_losses[0] == pytest.approx(loss, rel=1e-5)


def test_minibatch_epoch_does_not_modify_inputs(ns):
    X = np.arange(12.0).reshape(6, 2)
    y = np.arange(6.0)
    w = np.ones(2)
    before = (X.copy(), y.copy(), w.copy())

    def least_squares(p, xb, yb):
        r = xb @ p - yb
        return float(0.5 * np.mean(r**2)), xb.T @ r / len(yb)

    ns["minibatch_epoch"](w, X, y, least_squares, 0.01, 4, np.random.default_rng(0))
    for original, array in zip(before, (X, y, w), strict=True):
        np.testing.assert_array_equal(original, array)
