"""Layers: gradient checks with stated tolerances, dropout and batch-norm properties, purity."""

import numpy as np
import pytest

from solutions import layers as L
from solutions.gradcheck import numerical_gradient, relative_error

pytestmark = pytest.mark.foundation

AFFINE_TOL = 1e-7  # relative error, float64
NORM_TOL = 1e-8


def readonly(*arrays):
    for a in arrays:
        a.flags.writeable = False
    return arrays


def test_affine_gradients():
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((4, 3))
    readonly(x, W, b, dout)
    out, cache = L.affine_forward(x, W, b)
    np.testing.assert_allclose(out, x @ W + b)
    dx, dW, db = L.affine_backward(dout, cache)
    assert relative_error(dx, numerical_gradient(lambda v: L.affine_forward(v, W, b)[0], x, dout)) <= AFFINE_TOL
    assert relative_error(dW, numerical_gradient(lambda v: L.affine_forward(x, v, b)[0], W, dout)) <= AFFINE_TOL
    assert relative_error(db, numerical_gradient(lambda v: L.affine_forward(x, W, v)[0], b, dout)) <= AFFINE_TOL


def test_affine_can_skip_the_input_gradient():
    rng = np.random.default_rng(1)
    x, W, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), np.zeros(3)
    _, cache = L.affine_forward(x, W, b)
    dx, dW, db = L.affine_backward(np.ones((4, 3)), cache, need_dx=False)
    assert dx is None and dW.shape == (5, 3) and db.shape == (3,)
    layer = L.Affine(W, b, need_input_grad=False)
    layer.forward(x)
    assert layer.backward(np.ones((4, 3))) is None


@pytest.mark.parametrize(
    "forward, backward, shape, seed, offset",
    [
        (L.batchnorm_forward, L.batchnorm_backward, (6, 4), 2, 2.0),
        (L.layernorm_forward, L.layernorm_backward, (4, 6), 3, -1.0),
    ],
    ids=["batchnorm", "layernorm"],
)
def test_normalization_gradients_at_1e_8(forward, backward, shape, seed, offset):
    rng = np.random.default_rng(seed)
    x = 3 * rng.standard_normal(shape) + offset
    gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    dout = rng.standard_normal(shape)
    readonly(x, gamma, beta, dout)
    _, cache = forward(x, gamma, beta)
    dx, dgamma, dbeta = backward(dout, cache)

    def out(xv, g, bv):
        return forward(xv, g, bv)[0]

    assert relative_error(dx, numerical_gradient(lambda v: out(v, gamma, beta), x, dout)) <= NORM_TOL
    assert relative_error(dgamma, numerical_gradient(lambda v: out(x, v, beta), gamma, dout)) <= NORM_TOL
    assert relative_error(dbeta, numerical_gradient(lambda v: out(x, gamma, v), beta, dout)) <= NORM_TOL


def test_batchnorm_normalizes_each_feature_with_1_over_m():
    rng = np.random.default_rng(4)
    x = 5 * rng.standard_normal((64, 3)) + 7
    out, _ = L.batchnorm_forward(x, np.ones(3), np.zeros(3), eps=0.0)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0, ddof=0), 1, rtol=1e-12)  # ddof=0: BN divides by m


def test_batchnorm_eval_mode_uses_running_statistics():
    rng = np.random.default_rng(5)
    layer = L.BatchNorm(3, momentum=0.9, dtype=np.float64)
    for _ in range(200):
        layer.forward(2 * rng.standard_normal((50, 3)) + 5, train=True)
    np.testing.assert_allclose(layer.running_mean, 5, atol=0.2)
    np.testing.assert_allclose(layer.running_var, 4, rtol=0.15)
    # in eval mode a single sample is normalized with the running statistics, not its own
    one = np.array([[5.0, 7.0, 3.0]])
    expected = (one - layer.running_mean) / np.sqrt(layer.running_var + layer.eps)
    np.testing.assert_allclose(layer.forward(one, train=False), expected)
    before = layer.running_mean.copy()
    layer.forward(one + 100, train=False)
    np.testing.assert_array_equal(layer.running_mean, before)  # eval never updates them


def test_layernorm_normalizes_each_sample_even_with_batch_size_1():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((5, 8)) * np.arange(1, 6)[:, None] + np.arange(5)[:, None]
    out, _ = L.layernorm_forward(x, np.ones(8), np.zeros(8), eps=0.0)
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1, rtol=1e-12)
    single, _ = L.layernorm_forward(x[2:3], np.ones(8), np.zeros(8), eps=0.0)
    np.testing.assert_allclose(single, out[2:3])


def test_inverted_dropout_preserves_the_expected_activation():
    rng = np.random.default_rng(7)
    x = np.ones((2000, 500), dtype=np.float32)
    out, mask = L.dropout_forward(x, drop_prob=0.3, rng=rng, train=True)
    assert out.dtype == np.float32
    kept = mask > 0
    assert kept.mean() == pytest.approx(0.7, abs=0.005)
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    assert out.mean() == pytest.approx(1.0, abs=0.01)  # E[out] = x
    test_out, _ = L.dropout_forward(x, drop_prob=0.3, rng=rng, train=False)
    assert test_out is x  # no scaling at test time


def test_dropout_is_seeded_and_its_backward_uses_the_same_mask():
    x = np.random.default_rng(8).standard_normal((10, 10))
    a, mask_a = L.dropout_forward(x, 0.5, np.random.default_rng(42))
    b, _ = L.dropout_forward(x, 0.5, np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)
    dout = np.ones_like(x)
    np.testing.assert_array_equal(L.dropout_backward(dout, mask_a), mask_a)
    assert relative_error(L.dropout_backward(dout, mask_a), numerical_gradient(lambda v: v * mask_a, x, dout)) <= 1e-7


def test_dropout_rejects_a_bad_probability():
    with pytest.raises(ValueError, match="drop_prob"):
        L.Dropout(1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="drop_prob"):
        L.dropout_forward(np.ones(3), -0.1, np.random.default_rng(0))


@pytest.mark.parametrize("make_layer", [
    lambda: L.Affine(np.ones((4, 3), np.float32), np.zeros(3, np.float32)),
    lambda: L.ReLU(),
    lambda: L.Activation("sigmoid"),
    lambda: L.Activation("leaky_relu", slope=0.1),
    lambda: L.Dropout(0.5, np.random.default_rng(0)),
    lambda: L.BatchNorm(4),
    lambda: L.LayerNorm(4),
], ids=["affine", "relu", "sigmoid", "leaky_relu", "dropout", "batchnorm", "layernorm"])
def test_layer_classes_keep_float32_and_never_mutate(make_layer):
    layer = make_layer()
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    readonly(x)
    out = layer.forward(x, train=True)
    assert out.dtype == np.float32
    dout = rng.standard_normal(out.shape).astype(np.float32)
    readonly(dout)
    dx = layer.backward(dout)
    assert dx.dtype == np.float32
    for grad in layer.grads.values():
        assert grad.dtype == np.float32
