"""Chapter 7 (batch and layer normalization): the notebook's reference answers.

The answers must reproduce the table of seed 002 (sample std, ddof=1), normalize as the
formulas say, and pass a float64 gradient check to 1e-8; the chapter's note that the
library's rearranged batch norm computes the same numbers is checked too.
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


def test_normalize_axis0_gives_zero_mean_unit_variance_columns(ns):
    x = np.random.default_rng(0).normal(2.0, 3.0, (20, 5))
    mean, std, x_hat = ns["normalize"](x, axis=0)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, x.std(axis=0), rtol=1e-12)  # 1/m, without eps
    np.testing.assert_allclose(x_hat, (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(x_hat.mean(axis=0), 0.0, atol=1e-12)


def test_the_librarys_rearranged_batchnorm_computes_the_answers_numbers(ns):
    """The chapter's note: solutions.layers reuses dbeta and dgamma; ch. 10 trains with it."""
    rng = np.random.default_rng(1)
    x = rng.normal(1.0, 2.0, (32, 7))
    gamma, beta = rng.uniform(0.5, 2.0, 7), rng.normal(size=7)
    dout = rng.normal(size=(32, 7))
    out, cache = ns["batchnorm_forward"](x, gamma, beta)
    library_out, library_cache = L.batchnorm_forward(x, gamma, beta)
    np.testing.assert_allclose(out, library_out, rtol=1e-12, atol=1e-12)
    for ours, library in zip(
        ns["batchnorm_backward"](dout, cache), L.batchnorm_backward(dout, library_cache), strict=True
    ):
        np.testing.assert_allclose(ours, library, rtol=1e-10, atol=1e-12)


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
    numeric_dgamma = gradcheck.numerical_gradient(lambda g: forward(x, g, beta), gamma, dout)
    assert gradcheck.relative_error(dgamma, numeric_dgamma) < 1e-8
    numeric_dbeta = gradcheck.numerical_gradient(lambda b: forward(x, gamma, b), beta, dout)
    assert gradcheck.relative_error(dbeta, numeric_dbeta) < 1e-8


def test_bias_before_batchnorm_gets_zero_gradient(ns):
    rng = np.random.default_rng(2)
    net = rng.normal(size=(16, 3)) + rng.normal(size=3) * 5
    _, cache = ns["batchnorm_forward"](net, np.ones(3), np.zeros(3))
    dx, _, _ = ns["batchnorm_backward"](rng.normal(size=(16, 3)), cache)
    np.testing.assert_allclose(dx.sum(axis=0), 0.0, atol=1e-12)


def test_batchnorm_layer_keeps_running_averages_and_uses_them_at_test_time(ns):
    rng = np.random.default_rng(3)
    gamma, beta = rng.uniform(0.5, 2.0, 6), rng.normal(size=6)
    running_mean, running_var = np.zeros(6), np.ones(6)
    expected_mean, expected_var = np.zeros(6), np.ones(6)
    for _ in range(25):
        x = rng.normal(3.0, 2.0, (10, 6))
        out, cache, running_mean, running_var = ns["batchnorm_layer_forward"](
            x, gamma, beta, running_mean, running_var, train=True, momentum=0.8
        )
        assert cache is not None
        np.testing.assert_allclose(out, gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5) + beta, rtol=1e-12)
        expected_mean = 0.8 * expected_mean + 0.2 * x.mean(axis=0)
        expected_var = 0.8 * expected_var + 0.2 * x.var(axis=0)
    np.testing.assert_allclose(running_mean, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(running_var, expected_var, rtol=1e-12)
    x_test = rng.normal(3.0, 2.0, (5, 6))
    out, cache, same_mean, same_var = ns["batchnorm_layer_forward"](x_test, gamma, beta, running_mean, running_var,
                                                                    train=False)
    assert cache is None
    np.testing.assert_allclose(out, gamma * (x_test - running_mean) / np.sqrt(running_var + 1e-5) + beta, rtol=1e-12)
    np.testing.assert_array_equal(same_mean, running_mean)
    np.testing.assert_array_equal(same_var, running_var)


@pytest.mark.parametrize("n", [1, 9])
def test_layernorm_normalizes_each_sample_over_its_features(ns, n):
    rng = np.random.default_rng(4)
    x = rng.normal(1.0, 3.0, (n, 8)).astype(np.float32)
    gamma, beta = rng.uniform(0.5, 2.0, 8).astype(np.float32), rng.normal(size=8).astype(np.float32)
    out = ns["layernorm_forward"](x, gamma, beta)
    assert out.dtype == np.float32
    x_hat = (out - beta) / gamma
    np.testing.assert_allclose(x_hat.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(x_hat.std(axis=1), 1.0, rtol=1e-4)
    np.testing.assert_allclose(ns["layernorm_forward"](x[:1], gamma, beta), out[:1], rtol=1e-6)  # batch-independent
