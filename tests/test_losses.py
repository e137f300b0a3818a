"""Losses: stable values, fused backward passes, penalties."""

import numpy as np
import pytest

from solutions import losses as L
from solutions.gradcheck import numerical_gradient, relative_error

pytestmark = pytest.mark.foundation


def test_softmax_cross_entropy_known_value_and_uniform_logits():
    # uniform logits over 10 classes: the loss is ln 10 (chapter 9's sanity check)
    z = np.zeros((4, 10), dtype=np.float32)
    assert L.softmax_cross_entropy(z, np.array([0, 3, 5, 9])) == pytest.approx(np.log(10), rel=1e-6)
    z = np.array([[2.0, 1.0, 0.1]])
    expected = -np.log(np.exp(2.0) / np.exp([2.0, 1.0, 0.1]).sum())
    assert L.softmax_cross_entropy(z, np.array([0])) == pytest.approx(expected)


def test_softmax_cross_entropy_is_stable_for_logits_of_1000():
    z = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert L.softmax_cross_entropy(z, np.array([0, 0])) == pytest.approx(1000.0)
        grad = L.softmax_cross_entropy_backward(z, np.array([0, 0]))
    np.testing.assert_allclose(grad, [[0, 0], [-0.5, 0.5]], atol=1e-7)


def test_fused_backward_is_probabilities_minus_targets_over_n():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((6, 4))
    t = np.array([0, 1, 2, 3, 0, 1])
    one_hot = np.eye(4)[t]
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(L.softmax_cross_entropy_backward(z, t), (p - one_hot) / 6)
    np.testing.assert_allclose(L.softmax_cross_entropy_backward(z, one_hot), (p - one_hot) / 6)


@pytest.mark.parametrize(
    "loss,backward,make_targets",
    [
        (L.softmax_cross_entropy, L.softmax_cross_entropy_backward, lambda r: np.array([0, 2, 1, 1, 0])),
        (L.focal_loss, L.focal_loss_backward, lambda r: np.array([0, 2, 1, 1, 0])),
    ],
    ids=["softmax_ce", "focal"],
)
def test_loss_backward_matches_numerical_gradient(loss, backward, make_targets):
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, 3))
    t = make_targets(rng)
    assert relative_error(backward(z, t), numerical_gradient(lambda v: loss(v, t), z)) <= 1e-7


def test_binary_cross_entropy_with_logits_is_the_formula_on_probabilities_and_stable():
    z = np.array([-3.0, -0.2, 0.0, 1.5, 20.0])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    p = 1 / (1 + np.exp(-z))
    on_probabilities = -np.mean(t * np.log(p) + (1 - t) * np.log1p(-p))  # seed 001's formula
    assert L.binary_cross_entropy_with_logits(z, t) == pytest.approx(on_probabilities, rel=1e-9)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert L.binary_cross_entropy_with_logits(np.array([-1000.0, 1000.0]), np.array([1.0, 0.0])) == 1000.0


def test_losses_a_network_can_train_with():
    assert L.LOSSES["softmax_cross_entropy"] == (L.softmax_cross_entropy, L.softmax_cross_entropy_backward)
    assert L.LOSSES["focal_loss"] == (L.focal_loss, L.focal_loss_backward)


def test_focal_loss_with_gamma_zero_is_cross_entropy_and_downweights_easy_samples():
    rng = np.random.default_rng(2)
    z, t = rng.standard_normal((8, 3)), rng.integers(0, 3, 8)
    assert L.focal_loss(z, t, gamma=0.0) == pytest.approx(L.softmax_cross_entropy(z, t))
    easy = np.array([[8.0, 0.0]])
    assert L.focal_loss(easy, np.array([0]), gamma=2.0) < 1e-3 * L.softmax_cross_entropy(easy, np.array([0]))


def test_penalties_and_their_gradients():
    w = [np.array([[1.0, -2.0]]), np.array([3.0])]
    assert L.l1_penalty(w, 0.5) == pytest.approx(0.25 * 6)
    assert L.l2_penalty(w, 0.5) == pytest.approx(0.25 * 14)
    x = np.array([[0.3, -1.2], [2.0, -0.7]])
    l2_numeric = numerical_gradient(lambda v: L.l2_penalty([v], 0.5), x)
    assert relative_error(L.l2_penalty_backward(x, 0.5), l2_numeric) <= 1e-7
    l1_numeric = numerical_gradient(lambda v: L.l1_penalty([v], 0.5), x)
    assert relative_error(L.l1_penalty_backward(x, 0.5), l1_numeric) <= 1e-7


def test_float32_stays_float32():
    z = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    t = np.array([0, 1, 2, 0])
    assert L.softmax_cross_entropy_backward(z, t).dtype == np.float32
    assert L.focal_loss_backward(z, t).dtype == np.float32
    assert isinstance(L.softmax_cross_entropy(z, t), float)


def test_bad_targets_give_clear_errors():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match="do not match"):
        L.softmax_cross_entropy_backward(z, np.array([0, 1]))
    with pytest.raises(TypeError, match="integer class labels"):
        L.softmax_cross_entropy_backward(z, np.array([0.0, 1.0, 2.0]))


# Every public function of solutions.losses, with float32 inputs, and a non-default value for each of
# its optional arguments. A function or an optional argument missing here fails the coverage test below.
_Z32 = np.random.default_rng(4).standard_normal((6, 2)).astype(np.float32)
_LABELS = np.array([0, 1, 1, 0, 1, 0])
_ONE_HOT32 = np.eye(2, dtype=np.float32)[_LABELS]
_PROBS32 = np.full((6, 2), 0.25, dtype=np.float32) + 0.5 * _ONE_HOT32
_FLOAT32_CASES = {
    # name: (list of positional-argument tuples, {optional argument: non-default value})
    "binary_cross_entropy_with_logits": ([(_Z32, _ONE_HOT32)], {}),
    "log_softmax": ([(_Z32,)], {}),
    "softmax_cross_entropy": ([(_Z32, _LABELS), (_Z32, _ONE_HOT32)], {}),
    "softmax_cross_entropy_backward": ([(_Z32, _LABELS), (_Z32, _ONE_HOT32)], {}),
    "focal_loss": ([(_Z32, _LABELS)], {"gamma": 0.5, "alpha": 0.25}),
    "focal_loss_backward": ([(_Z32, _LABELS)], {"gamma": 0.5, "alpha": 0.25}),
    "l1_penalty": ([([_Z32, _Z32[:1]], 0.1)], {}),
    "l1_penalty_backward": ([(_Z32, 0.1)], {}),
    "l2_penalty": ([([_Z32, _Z32[:1]], 0.1)], {}),
    "l2_penalty_backward": ([(_Z32, 0.1)], {}),
}


def _optional_argument_subsets(optional):
    names = sorted(optional)
    for mask in range(2 ** len(names)):
        yield {name: optional[name] for bit, name in enumerate(names) if mask >> bit & 1}


def _float32_calls():
    for name, (positional, optional) in _FLOAT32_CASES.items():
        for args_index, args in enumerate(positional):
            for kwargs in _optional_argument_subsets(optional):
                given = ",".join(sorted(kwargs)) or "defaults"
                yield pytest.param(name, args, kwargs, id=f"{name}-args{args_index}-{given}")


def test_float32_cases_cover_every_loss_and_every_optional_argument():
    import inspect

    public = {
        name for name, function in vars(L).items()
        if inspect.isfunction(function) and function.__module__ == L.__name__ and not name.startswith("_")
    }
    assert public == set(_FLOAT32_CASES), (
        f"solutions.losses functions without a float32 case: {public ^ set(_FLOAT32_CASES)}"
    )
    for name, (_, optional) in _FLOAT32_CASES.items():
        defaults = {p.name for p in inspect.signature(getattr(L, name)).parameters.values() if p.default is not p.empty}
        assert set(optional) == defaults, (
            f"{name}: optional arguments {defaults}, the float32 case gives {set(optional)}"
        )


@pytest.mark.parametrize("name,args,kwargs", list(_float32_calls()))
def test_every_loss_keeps_float32(name, args, kwargs):
    # float32 in -> float32 out: arrays stay float32, losses are Python floats (never an np.float64 scalar)
    result = getattr(L, name)(*args, **kwargs)
    if isinstance(result, np.ndarray):
        assert result.dtype == np.float32, f"{name}(float32 inputs, {kwargs or 'defaults'}) returned {result.dtype}"
        assert np.all(np.isfinite(result))
    else:
        assert type(result) is float, f"{name}(float32 inputs, {kwargs or 'defaults'}) returned {type(result).__name__}"
        assert np.isfinite(result)
