"""Chapter 7 (batch and layer normalization): the notebook's reference answers.

The answers must agree with ``solutions.layers`` on random inputs, reproduce the
table of seed 002 (sample std, ddof=1) and pass a float64 gradient check to 1e-8.
"""

from __future__ import annotations

import numpy as np
import pytest

from chapter_tools import answer_namespace
from solutions import gradcheck
from solutions import layers as L

pytestmark = pytest.mark.ch07

CHAPTER = "07_normalization"
ANSWERS = [
    "normalize_answer",
    "batchnorm_forward_answer",
    "batchnorm_backward_answer",
    "batchnorm_layer_answer",
    "layernorm_forward_answer",
]

# seed 002, "Layer Normalization - Recap: Batch Normalization"
SEED_TABLE = np.array(
    [[1.0, 3.0, 6.0], [2.0, 2.0, 2.0], [0.0, 1.0, 5.0], [4.0, 6.0, 1.0], [5.0, 2.0, 3.0], [1.0, 0.0, 1.0]]
)
SEED_AVG = [3.3, 2.0, 2.0, 3.7, 3.3, 0.7]
SEED_STD = [2.5, 0.0, 2.6, 2.5, 1.5, 0.6]
SEED_NORMALIZED = [
    [-0.9, -0.1, 1.1],
    [0.0, 0.0, 0.0],
    [-0.8, -0.4, 1.1],
    [0.1, 0.9, -1.1],
    [1.1, -0.9, -0.2],
    [0.6, -1.2, 0.6],
]


@pytest.fixture(scope="module")
def ns():
    return answer_namespace(CHAPTER, ANSWERS)


def test_seed_002_table_needs_the_sample_std(ns):
    mean, std, x_hat = ns["normalize"](SEED_TABLE, axis=1, ddof=1)
    np.testing.assert_array_equal(np.round(mean, 1), SEED_AVG)
    np.testing.assert_array_equal(np.round(std, 1), SEED_STD)
    np.testing.assert_array_equal(np.round(x_hat, 1) + 0.0, SEED_NORMALIZED)  # + 0.0 turns -0.0 into 0.0
    # with 1/m (batch norm's and layer norm's definition) the table is different
    _, std0, x_hat0 = ns["normalize"](SEED_TABLE, axis=1, ddof=0)
    assert np.round(std0[0], 2) == 2.05
    np.testing.assert_allclose(x_hat0[0], [-1.1355, -0.1622, 1.2978], atol=1e-4)
    assert not np.allclose(np.round(x_hat0, 1), SEED_NORMALIZED)


def test_normalize_axis0_matches_library_batchnorm(ns):
    x = np.random.default_rng(0).normal(2.0, 3.0, (20, 5))
    _, _, x_hat = ns["normalize"](x, axis=0)
    out, _ = L.batchnorm_forward(x, np.ones(5), np.zeros(5))
    np.testing.assert_allclose(x_hat, out, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batchnorm_forward_backward_match_library(ns, dtype):
    rng = np.random.default_rng(1)
    x = rng.normal(1.0, 2.0, (32, 7)).astype(dtype)
    gamma = rng.uniform(0.5, 2.0, 7).astype(dtype)
    beta = rng.normal(size=7).astype(dtype)
    dout = rng.normal(size=(32, 7)).astype(dtype)
    out, cache = ns["batchnorm_forward"](x, gamma, beta)
    ref_out, ref_cache = L.batchnorm_forward(x, gamma, beta)
    assert out.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out, ref_out, rtol=tol, atol=tol)
    for mine, ref in zip(ns["batchnorm_backward"](dout, cache), L.batchnorm_backward(dout, ref_cache)):
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, ref, rtol=10 * tol, atol=10 * tol)


def test_batchnorm_backward_gradient_check_1e8(ns):
    rng = np.random.default_rng(20)
    x = rng.normal(1.0, 2.0, (6, 4))
    gamma = rng.uniform(0.5, 2.0, 4)
    beta = rng.normal(0.0, 1.0, 4)
    dout = rng.normal(size=(6, 4))
    _, cache = ns["batchnorm_forward"](x, gamma, beta)
    dx, dgamma, dbeta = ns["batchnorm_backward"](dout, cache)

    def forward(x_, g_, b_):
        return ns["batchnorm_forward"](x_, g_, b_)[0]

    assert gradcheck.relative_error(dx, gradcheck.numerical_gradient(lambda v: forward(v, gamma, beta), x, dout)) < 1e-8
    assert gradcheck.relative_error(dgamma, gradcheck.numerical_gradient(lambda g: forward(x, g, beta), gamma, dout)) < 1e-8
    assert gradcheck.relative_error(dbeta, gradcheck.numerical_gradient(lambda b: forward(x, gamma, b), beta, dout)) < 1e-8


def test_bias_before_batchnorm_gets_zero_gradient(ns):
    rng = np.random.default_rng(2)
    net = rng.normal(size=(16, 3)) + rng.normal(size=3) * 5
    _, cache = ns["batchnorm_forward"](net, np.ones(3), np.zeros(3))
    dx, _, _ = ns["batchnorm_backward"](rng.normal(size=(16, 3)), cache)
    np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-12)


def test_batchnorm_layer_matches_library_class_over_many_steps(ns):
    rng = np.random.default_rng(3)
    layer = L.BatchNorm(6, momentum=0.8, dtype=np.float64)
    gamma, beta = rng.uniform(0.5, 2.0, 6), rng.normal(size=6)
    layer.params["gamma"][...] = gamma
    layer.params["beta"][...] = beta
    running_mean, running_var = np.zeros(6), np.ones(6)
    for _ in range(25):
        x = rng.normal(3.0, 2.0, (10, 6))
        out, cache, running_mean, running_var = ns["batchnorm_layer_forward"](
            x, gamma, beta, running_mean, running_var, train=True, momentum=0.8
        )
        assert cache is not None
        np.testing.assert_allclose(out, layer.forward(x, train=True), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(running_mean, layer.running_mean, rtol=1e-12)
    np.testing.assert_allclose(running_var, layer.running_var, rtol=1e-12)
    x_test = rng.normal(3.0, 2.0, (5, 6))
    out, cache, same_mean, same_var = ns["batchnorm_layer_forward"](
        x_test, gamma, beta, running_mean, running_var, train=False
    )
    assert cache is None
    np.testing.assert_allclose(out, layer.forward(x_test, train=False), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(same_mean, running_mean)
    np.testing.assert_array_equal(same_var, running_var)


@pytest.mark.parametrize("n", [1, 9])
def test_layernorm_matches_library(ns, n):
    rng = np.random.default_rng(4)
    x = rng.normal(1.0, 3.0, (n, 8)).astype(np.float32)
    gamma, beta = rng.uniform(0.5, 2.0, 8).astype(np.float32), rng.normal(size=8).astype(np.float32)
    out = ns["layernorm_forward"](x, gamma, beta)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, L.layernorm_forward(x, gamma, beta)[0], rtol=1e-5, atol=1e-5)
