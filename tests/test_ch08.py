"""Chapter 8 (optimizers): the notebook's reference answers.

The look-ahead and change-of-variables forms of Nesterov describe the same method,
Adam refuses t = 0 and its first step has size lr, AdaGrad's sign is the minus of
seed 004's correction, Newton's step solves a quadratic in one step, and SGD flips
the sign of y at every step on f = x^2/20 + y^2 with lr 0.95. (``tests/test_optim.py``
checks the library's optimizers against the same textbook rules.)
"""

from __future__ import annotations

import numpy as np
import pytest
from chapter_tools import answer_namespace

pytestmark = pytest.mark.ch08

CHAPTER = "08_optimizers"
ANSWERS = [
    "sgd_answer",
    "momentum_answer",
    "nesterov_answer",
    "adagrad_answer",
    "rmsprop_answer",
    "adam_answer",
    "newton_answer",
]


@pytest.fixture(scope="module")
def ns():
    return answer_namespace(CHAPTER, ANSWERS)


def quadratic_grad(w: np.ndarray) -> np.ndarray:
    """Gradient of an ill-conditioned quadratic, with curvatures from 0.1 to 2."""
    scales = np.linspace(0.1, 2.0, w.size).reshape(w.shape)
    return scales * w


def test_nesterov_lookahead_equals_change_of_variables(ns):
    rho, lr = 0.9, 0.05
    x, v = np.array([-7.0, 2.0, 1.0]), np.zeros(3)
    x_tilde, v_tilde = x + rho * v, v.copy()
    for _ in range(100):
        x, v = ns["nesterov_lookahead_update"](x, v, quadratic_grad, lr, rho)
        x_tilde, v_tilde = ns["nesterov_update"](x_tilde, quadratic_grad(x_tilde), v_tilde, lr, rho)
        np.testing.assert_allclose(x_tilde, x + rho * v, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(v_tilde, v, rtol=1e-10, atol=1e-13)


def test_adam_counts_from_one(ns):
    w, g, z = np.ones(2), np.array([0.5, -1.0]), np.zeros(2)
    with pytest.raises(ValueError):
        ns["adam_update"](w, g, z, z, 0, 0.1)
    # with the correction the first step has size lr in each coordinate (seed 003 without it: 3.16 lr)
    w1, _, _ = ns["adam_update"](w, g, z, z, 1, 0.1)
    np.testing.assert_allclose(w - w1, [0.1, -0.1], rtol=1e-6)


def test_adagrad_descends_and_slows(ns):
    # seed 004 writes W <- W + eta g / sqrt(h); the chapter's rule must go downhill
    w, h = np.array([3.0]), np.zeros(1)
    sizes = []
    for _ in range(50):
        w_new, h = ns["adagrad_update"](w, np.array([1.0]), h, 0.1)
        sizes.append(float((w - w_new)[0]))
        w = w_new
    assert all(s > 0 for s in sizes)
    np.testing.assert_allclose(sizes, 0.1 / np.sqrt(np.arange(1, 51)), rtol=1e-6)


def test_newton_solves_a_quadratic_in_one_step(ns):
    rng = np.random.default_rng(3)
    M = rng.normal(size=(10, 10))
    A = M @ M.T + np.eye(10)
    b = rng.normal(size=10)
    start = np.full(10, 5.0)
    theta = ns["newton_step"](start, A @ start - b, A)
    np.testing.assert_allclose(A @ theta, b, atol=1e-9)


def test_sgd_path_on_dlfs_function(ns):
    # seed 003's SGD on f = x^2/20 + y^2 from (-7, 2), lr 0.95: y flips sign at every step
    w = np.array([-7.0, 2.0])
    for _ in range(3):
        w = ns["sgd_update"](w, np.array([w[0] / 10, 2 * w[1]]), 0.95)
    np.testing.assert_allclose(w, [-7.0 * 0.905**3, 2.0 * (-0.9) ** 3], rtol=1e-12)
