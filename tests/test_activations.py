"""Activations: known values from the lecture, gradient checks, dtype and purity."""

import numpy as np
import pytest

from solutions import activations as A
from solutions.gradcheck import numerical_gradient, relative_error

pytestmark = pytest.mark.foundation

LECTURE_X = np.array([-10, -5, -0.5, 0, 1, 5, 10, 20, 100], dtype=np.float32)  # seed 000, exercise 1


def test_relu_on_the_lectures_inputs():
    np.testing.assert_array_equal(A.relu(LECTURE_X), [0, 0, 0, 0, 1, 5, 10, 20, 100])


def test_leaky_relu_on_the_lectures_inputs():
    expected = np.array([-0.1, -0.05, -0.005, 0, 1, 5, 10, 20, 100], dtype=np.float32)
    np.testing.assert_allclose(A.leaky_relu(LECTURE_X), expected, rtol=1e-6)
    np.testing.assert_allclose(A.leaky_relu(LECTURE_X, slope=0.2)[:2], [-2.0, -1.0], rtol=1e-6)


def test_sigmoid_is_stable_and_bounded_derivative():
    x = np.array([-1000, -50, 0, 50, 1000], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = A.sigmoid(x)
    np.testing.assert_allclose(s, [0, 0, 0.5, 1, 1], atol=1e-7)
    grid = np.linspace(-10, 10, 2001)
    derivative = A.sigmoid_backward(np.ones_like(grid), grid)
    assert derivative.max() == pytest.approx(0.25)  # sigma' <= 1/4, attained at 0


def test_softmax_is_stable_for_huge_logits():
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = A.softmax(z)
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-6)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)


ELEMENTWISE = [
    ("sigmoid", A.sigmoid, A.sigmoid_backward, {}),
    ("tanh", A.tanh, A.tanh_backward, {}),
    ("relu", A.relu, A.relu_backward, {}),
    ("leaky_relu", A.leaky_relu, A.leaky_relu_backward, {"slope": 0.01}),
    ("elu", A.elu, A.elu_backward, {"alpha": 1.3}),
    ("silu", A.silu, A.silu_backward, {}),
]


def _away_from_kinks(rng, shape):
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < 1e-3, 0.1, x)  # numerical derivatives are wrong exactly at 0


@pytest.mark.parametrize("name,forward,backward,kwargs", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
def test_backward_matches_numerical_gradient(name, forward, backward, kwargs):
    rng = np.random.default_rng(0)
    x = _away_from_kinks(rng, (4, 5))
    dout = rng.standard_normal((4, 5))
    numeric = numerical_gradient(lambda v: forward(v, **kwargs), x, dout)
    assert relative_error(backward(dout, x, **kwargs), numeric) <= 1e-7


@pytest.mark.parametrize("name,forward,backward,kwargs", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
def test_float32_in_float32_out_and_inputs_untouched(name, forward, backward, kwargs):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    dout = rng.standard_normal((3, 4)).astype(np.float32)
    x.flags.writeable = False
    dout.flags.writeable = False  # any write raises
    assert forward(x, **kwargs).dtype == np.float32
    assert backward(dout, x, **kwargs).dtype == np.float32


def test_prelu_gradients_for_input_and_slope():
    rng = np.random.default_rng(3)
    x = _away_from_kinks(rng, (5, 3))
    alpha = np.array([0.1, 0.2, 0.3])
    dout = rng.standard_normal((5, 3))
    dx, dalpha = A.prelu_backward(dout, x, alpha)
    assert relative_error(dx, numerical_gradient(lambda v: A.prelu(v, alpha), x, dout)) <= 1e-7
    assert relative_error(dalpha, numerical_gradient(lambda a: A.prelu(x, a), alpha, dout)) <= 1e-7


def test_maxout_routes_the_gradient_to_the_winning_piece():
    rng = np.random.default_rng(4)
    pieces = rng.standard_normal((4, 3, 2))
    dout = rng.standard_normal((4, 3))
    numeric = numerical_gradient(A.maxout, pieces, dout)
    assert relative_error(A.maxout_backward(dout, pieces), numeric) <= 1e-7
