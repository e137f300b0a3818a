"""Initializers: the stated variances and limits, seeded, float32."""

import numpy as np
import pytest

from solutions import init as I

pytestmark = pytest.mark.foundation

FAN_IN, FAN_OUT = 400, 200


@pytest.mark.parametrize(
    "name,std",
    [
        ("xavier_normal", np.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("he_normal", np.sqrt(2 / FAN_IN)),
        ("xavier_uniform", np.sqrt(6 / (FAN_IN + FAN_OUT)) / np.sqrt(3)),
        ("he_uniform", np.sqrt(6 / FAN_IN) / np.sqrt(3)),
    ],
)
def test_standard_deviation_matches_the_formula(name, std):
    W = getattr(I, name)(FAN_IN, FAN_OUT, np.random.default_rng(0))
    np.testing.assert_array_equal(W, I.init_weights(name, FAN_IN, FAN_OUT, np.random.default_rng(0)))
    assert W.shape == (FAN_IN, FAN_OUT) and W.dtype == np.float32
    assert W.std() == pytest.approx(std, rel=0.02)
    assert abs(W.mean()) < 0.02 * std * 10


@pytest.mark.parametrize("name,limit", [
    ("xavier_uniform", np.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("he_uniform", np.sqrt(6 / FAN_IN)),
])
def test_uniform_limits(name, limit):
    W = getattr(I, name)(FAN_IN, FAN_OUT, np.random.default_rng(1))
    assert W.max() <= limit and W.min() >= -limit
    assert W.max() > 0.99 * limit and W.min() < -0.99 * limit


def test_seeded_and_by_name_or_std():
    a = I.init_weights("he", 10, 5, np.random.default_rng(3))
    b = I.init_weights("he", 10, 5, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    W = I.init_weights(0.01, 1000, 100, np.random.default_rng(4))
    assert W.std() == pytest.approx(0.01, rel=0.02)
    with pytest.raises(ValueError, match="unknown initializer"):
        I.init_weights("glorot", 3, 3, np.random.default_rng(0))


def test_he_preserves_the_variance_of_a_deep_relu_stack_and_xavier_halves_it():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1000, 256)).astype(np.float32)
    for init, lo, hi in [("he", 0.5, 2.0), ("xavier", 0.0, 0.05)]:
        h = x
        for _ in range(10):
            h = np.maximum(h @ I.init_weights(init, 256, 256, rng), 0)
        ratio = float(np.mean(h**2) / np.mean(x**2))
        assert lo < ratio < hi, f"{init}: second moment ratio after 10 ReLU layers {ratio}"
