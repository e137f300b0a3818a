"""Chapter 4 (momentum): the reference answers follow the seeds' rules, and the three conventions agree."""

import numpy as np
import pytest
from chapter_tools import answer_namespace

pytestmark = pytest.mark.ch04

CHAPTER = "04_momentum"
ANSWERS = ["momentum_step_answer", "other_conventions_answer", "convert_answer", "momentum_paths_answer"]


@pytest.fixture(scope="module")
def ns():
    return answer_namespace(CHAPTER, ANSWERS)


def heavy_ball_path(grad_fn, w0, lr, momentum, steps):
    """Seed 000's rule written out: m = -lr * grad + momentum * m (m starts at 0); w <- w + m."""
    w, m = np.array(w0, dtype=np.float64), np.zeros(len(w0))
    path = [w.copy()]
    for _ in range(steps):
        m = -lr * grad_fn(w) + momentum * m
        w = w + m
        path.append(w.copy())
    return np.array(path)


def test_seed_000_rule_by_hand(ns):
    # seed 000: dw = alpha delta x (= -alpha grad), m = dw + beta m_bar, w <- w + m, m_bar = m, m_bar starts at 0
    w, m_bar, alpha, beta = np.array([1.0]), np.zeros(1), 0.1, 0.9
    grads = [np.array([2.0]), np.array([-1.0]), np.array([0.5])]
    expected_w, m_ref, w_ref = [], 0.0, 1.0
    for g in grads:
        m_ref = -alpha * g[0] + beta * m_ref
        w_ref = w_ref + m_ref
        expected_w.append(w_ref)
    for g, want in zip(grads, expected_w, strict=True):
        w, m_bar = ns["momentum_step"](w, g, m_bar, alpha, beta)
        assert w[0] == pytest.approx(want, rel=1e-14)


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.99])
def test_constant_gradient_gives_effective_step_alpha_over_one_minus_beta(ns, beta):
    m = np.zeros(1)
    for _ in range(5000):
        _, m = ns["momentum_step"](np.zeros(1), np.ones(1), m, 0.01, beta)
    assert m[0] == pytest.approx(-0.01 / (1 - beta), rel=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_momentum_step_keeps_the_dtype_and_does_not_mutate(ns, dtype):
    rng = np.random.default_rng(4)
    w, m = rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal((5, 3)).astype(dtype)
    grad = rng.standard_normal((5, 3)).astype(dtype)
    before = (w.copy(), m.copy(), grad.copy())
    new_w, new_m = ns["momentum_step"](w, grad, m, 0.05, 0.9)
    assert new_w.dtype == dtype and new_m.dtype == dtype
    np.testing.assert_allclose(new_m, 0.9 * m - 0.05 * grad, rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(new_w, w + new_m, rtol=1e-5 if dtype == np.float32 else 1e-12)
    for original, array in zip(before, (w, m, grad), strict=True):
        np.testing.assert_array_equal(original, array)


def test_other_conventions_with_the_mapping_follow_seed_000s_path(ns):
    H = np.array([[2.0, 0.3], [0.3, 0.1]])
    grad_fn = lambda w: H @ w  # noqa: E731
    alpha, beta, steps = 0.3, 0.8, 60
    reference = heavy_ball_path(grad_fn, [-7.0, 2.0], alpha, beta, steps)
    params = ns["convert_hyperparameters"](alpha, beta)
    x, v = np.array([-7.0, 2.0]), np.zeros(2)
    W, u = np.array([-7.0, 2.0]), np.zeros(2)
    for t in range(steps):
        x, v = ns["cs231n_step"](x, grad_fn(x), v, **params["cs231n"])
        W, u = ns["dlfs_step"](W, grad_fn(W), u, **params["dlfs"])
        np.testing.assert_allclose(x, reference[t + 1], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(W, reference[t + 1], rtol=1e-10, atol=1e-12)
        # the velocity relation of the chapter (and solutions.optim.Momentum): cs231n v = -m / lr, DLFS v = m
        m = reference[t + 1] - reference[t]
        np.testing.assert_allclose(v, -m / alpha, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(u, m, rtol=1e-8, atol=1e-10)
        converted = ns["convert_velocity"](m, alpha)
        np.testing.assert_allclose(converted["cs231n"], v, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(converted["dlfs"], u, rtol=1e-8, atol=1e-10)


def test_seed_003_sign(ns):
    # seed 003's code `x += learning_rate * dx` ascends; the corrected step descends
    f = lambda x: float(np.sum(x**2))  # noqa: E731
    x0 = np.array([1.0, -0.5])
    x_new, _ = ns["cs231n_step"](x0, 2 * x0, np.zeros(2), 0.1, 0.9)
    assert f(x_new) < f(x0) < f(x0 + 0.1 * 2 * x0)


@pytest.mark.parametrize("alpha,beta", [(0.9, 0.0), (0.9, 0.5), (0.1, 0.9), (0.05, 0.99)])
def test_momentum_paths_agree_with_each_other_and_with_seed_000s_rule(ns, alpha, beta):
    grad_fn = lambda w: np.array([0.1, 2.0]) * w  # noqa: E731
    paths = ns["momentum_paths"](grad_fn, np.array([-7.0, 2.0]), alpha, beta, 80)
    reference = heavy_ball_path(grad_fn, [-7.0, 2.0], alpha, beta, 80)
    for name in ("seed000", "cs231n", "dlfs"):
        assert paths[name].shape == (81, 2)
        np.testing.assert_allclose(paths[name], reference, rtol=1e-9, atol=1e-12)
    if beta == 0.0:
        sgd_path = [np.array([-7.0, 2.0])]
        for _ in range(80):
            sgd_path.append(sgd_path[-1] - alpha * grad_fn(sgd_path[-1]))
        np.testing.assert_allclose(paths["seed000"], np.array(sgd_path), rtol=1e-12, atol=1e-14)


def test_heavy_ball_rate_is_sqrt_beta_when_oscillating(ns):
    # the chapter's claim: with complex roots the error shrinks by sqrt(beta) per step
    grad_fn = lambda w: np.array([2.0]) * w  # noqa: E731
    path = ns["momentum_paths"](grad_fn, np.array([1.0]), 0.9, 0.81, 400)["seed000"][:, 0]
    # envelope over a window: max |w| over steps 300..400 vs 200..300 is about 0.9^100
    ratio = np.max(np.abs(path[300:400])) / np.max(np.abs(path[200:300]))
    assert ratio == pytest.approx(0.9**100, rel=0.5)
