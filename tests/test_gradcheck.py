"""The gradient checker itself: it must accept right gradients and explain wrong ones."""

import numpy as np
import pytest

from solutions import gradcheck as G

pytestmark = pytest.mark.foundation


def test_numerical_gradient_of_a_known_function():
    # seed 001: E = (w*1 - 1)^2 has dE/dw = 2(w - 1)
    grad = G.numerical_gradient(lambda w: ((w * 1 - 1) ** 2).sum(), np.array([3.0]))
    assert grad[0] == pytest.approx(4.0, rel=1e-9)


def test_numerical_gradient_does_not_modify_its_input():
    x = np.array([1.0, 2.0], dtype=np.float32)
    x.flags.writeable = False
    G.numerical_gradient(lambda v: (v**2).sum(), x)


def test_relative_error_definition():
    assert G.relative_error(np.array([1.0]), np.array([1.0])) == 0.0
    assert G.relative_error(np.array([1.0, 0.0]), np.array([3.0, 0.0])) == pytest.approx(0.5)
    assert G.relative_error(np.array([1e-12]), np.array([0.0])) < 1e-4  # both tiny: floor of 1e-8


@pytest.mark.parametrize(
    "factor,hint",
    [(-1.0, "wrong sign"), (2.0, "factor of 2"), (0.25, "times the expected one")],
)
def test_failure_messages_are_written_for_a_learner(factor, hint):
    expected = np.array([[0.5, -1.0], [2.0, 0.25]])
    with pytest.raises(AssertionError) as info:
        G.assert_gradient_close(factor * expected, expected, tol=1e-7, name="dW1")
    message = str(info.value)
    assert "dW1" in message and "relative error" in message and "largest error at index" in message
    assert hint in message and "tolerance" in message


def test_shape_mismatch_and_nan_are_reported():
    with pytest.raises(AssertionError, match="shape"):
        G.assert_gradient_close(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(AssertionError, match="NaN"):
        G.assert_gradient_close(np.array([np.nan]), np.array([0.0]))


def test_check_gradients_catches_a_wrong_parameter_gradient():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([1.0, -1.0])
    def loss():
        return float(np.sum((W @ x) ** 2))

    right = {"W": 2 * np.outer(W @ x, x)}
    errors = G.check_gradients(loss, {"W": W}, right)
    assert errors["W"] < 1e-8
    with pytest.raises(AssertionError, match="W"):
        G.check_gradients(loss, {"W": W}, {"W": np.outer(W @ x, x)})
    with pytest.raises(TypeError, match="float64"):
        G.check_gradients(loss, {"W": W.astype(np.float32)}, right)
