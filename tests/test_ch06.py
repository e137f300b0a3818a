"""Chapter 6 (weight initialization): the reference answers follow the seeds' formulas, and the
claims the chapter's text makes about its measurements hold."""

import numpy as np
import pytest
from chapter_tools import answer_namespace

from solutions import activations, data, init, layers, network, optim, train

pytestmark = pytest.mark.ch06

CHAPTER = "06_initialization"
ANSWERS = ["xavier_answer", "he_answer", "pca_answer"]


@pytest.fixture(scope="module")
def ns():
    return answer_namespace(CHAPTER, ANSWERS)


# Seed 004: Xavier U(+-sqrt(6/(n_in+n_out))), N(0, 2/(n_in+n_out)); He U(+-sqrt(6/n_in)), N(0, 2/n_in)
@pytest.mark.parametrize("fan_in, fan_out", [(600, 400), (300, 1200), (2000, 50)])
def test_seed_004_formulas_statistically(ns, fan_in, fan_out):
    rng = np.random.default_rng(0)
    expected = {
        "xavier_uniform": (np.sqrt(6 / (fan_in + fan_out)), np.sqrt(2 / (fan_in + fan_out))),
        "xavier_normal": (None, np.sqrt(2 / (fan_in + fan_out))),
        "he_uniform": (np.sqrt(6 / fan_in), np.sqrt(2 / fan_in)),
        "he_normal": (None, np.sqrt(2 / fan_in)),
    }
    for name, (limit, std) in expected.items():
        W = ns[name](fan_in, fan_out, rng)
        assert W.std() == pytest.approx(std, rel=0.02)
        assert abs(W.mean()) < 0.02 * std
        if limit is not None:
            assert np.abs(W).max() <= limit * (1 + 1e-6)
            assert np.abs(W).max() > 0.99 * limit
            assert W.std() == pytest.approx(limit / np.sqrt(3), rel=0.02)  # U(-a, a) has variance a^2 / 3
        else:
            assert np.mean(np.abs(W) < std) == pytest.approx(0.6827, abs=0.01)


def test_library_xavier_of_a_square_layer_has_std_one_over_sqrt_fan_in():
    # the std that seed 000's snippets, 0.01 * randn / sqrt(fan_in), miss by a factor of 100
    std = init.xavier_normal(1000, 1000, np.random.default_rng(123)).std()
    assert std == pytest.approx(1 / np.sqrt(1000), rel=0.01)


def covariance(X):
    X = np.asarray(X, dtype=np.float64)
    centred = X - X.mean(axis=0)
    return centred.T @ centred / len(X)


@pytest.mark.parametrize("seed, dims", [(0, 2), (1, 3), (2, 6)])
def test_decorrelate_and_whiten(ns, seed, dims):
    rng = np.random.default_rng(seed)
    X = (
        rng.standard_normal((3000, dims)) @ rng.standard_normal((dims, dims)) + rng.normal(0, 5, dims)
    ).astype(np.float32)
    before = X.copy()
    rotated, white = ns["decorrelate"](X), ns["whiten"](X)
    np.testing.assert_array_equal(X, before)
    assert rotated.dtype == np.float32 and white.dtype == np.float32
    eigenvalues = np.sort(np.linalg.eigvalsh(covariance(X)))[::-1]
    np.testing.assert_allclose(covariance(rotated), np.diag(eigenvalues), rtol=1e-3, atol=1e-4 * eigenvalues[0])
    expected_white = np.diag(eigenvalues / (eigenvalues + 1e-5))
    np.testing.assert_allclose(covariance(white), expected_white, atol=2e-3)
    # the same as cs231n's SVD recipe, column by column up to the sign of each eigenvector
    X64 = X.astype(np.float64) - X.astype(np.float64).mean(axis=0)
    U, S, _ = np.linalg.svd(X64.T @ X64 / len(X64))
    reference = X64 @ U / np.sqrt(S + 1e-5)
    for column in range(dims):
        signs = np.sign(reference[:, column] @ white[:, column])
        np.testing.assert_allclose(white[:, column], signs * reference[:, column], atol=2e-4)


def test_whiten_handles_a_direction_without_variance(ns):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((500, 2)) @ np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]])
    with np.errstate(divide="raise", invalid="raise"):
        white = ns["whiten"](X)
    assert white.dtype == np.float64 and np.all(np.isfinite(white))
    np.testing.assert_allclose(covariance(white), np.diag([1.0, 1.0, 0.0]), atol=1e-4)


# --- the chapter's claims about its measurements ---------------------------------------------


def forward(activation, weights, x):
    ys = []
    for W in weights:
        x = activation(x @ W)
        ys.append(x)
    return ys


def weights_with(initializer, depth=10, width=500):
    rng = np.random.default_rng(0)
    return [initializer(width, width, rng) for _ in range(depth)]


@pytest.fixture(scope="module")
def x_wide():
    return np.random.default_rng(0).standard_normal((500, 500)).astype(np.float32)


def test_tanh_histogram_claims(x_wide):
    small = forward(np.tanh, weights_with(lambda i, o, r: init.normal(i, o, 0.01, r)), x_wide)
    large = forward(np.tanh, weights_with(lambda i, o, r: init.normal(i, o, 1.0, r)), x_wide)
    xavier = forward(np.tanh, weights_with(init.xavier_normal), x_wide)
    ratios = [small[k + 1].std() / small[k].std() for k in range(9)]
    assert all(0.18 < r < 0.26 for r in ratios)  # "about 0.01 * sqrt(500) = 0.22 per layer"
    assert small[-1].std() < 1e-6
    assert np.mean(np.abs(large[-1]) > 0.99) > 0.8
    assert 0.55 < xavier[0].std() < 0.7 and 0.15 < xavier[-1].std() < 0.3  # "from about 0.6 to about 0.2"


def test_sigmoid_histogram_claims():
    x = np.random.default_rng(1).standard_normal((1000, 100)).astype(np.float32)
    small = forward(activations.sigmoid, weights_with(lambda i, o, r: init.normal(i, o, 0.01, r), 5, 100), x)
    large = forward(activations.sigmoid, weights_with(lambda i, o, r: init.normal(i, o, 1.0, r), 5, 100), x)
    assert all(abs(y.mean() - 0.5) < 0.01 and y.std() < 0.03 for y in small)
    assert all(np.mean((y < 0.1) | (y > 0.9)) > 0.5 for y in large)


def test_tanh_gradient_claims(x_wide):
    dout = np.random.default_rng(1).standard_normal((500, 500)).astype(np.float32)

    def gradient_norms(initializer):
        weights = weights_with(initializer)
        vs, ys, h = [], [], x_wide
        for W in weights:
            vs.append(h @ W)
            h = np.tanh(vs[-1])
            ys.append(h)
        inputs, e, norms = [x_wide] + ys[:-1], dout, [0.0] * 10
        for layer in reversed(range(10)):
            delta = activations.tanh_backward(e, vs[layer])
            norms[layer] = np.linalg.norm(inputs[layer].T @ delta)
            e = delta @ weights[layer].T
        return np.array(norms)

    small = gradient_norms(lambda i, o, r: init.normal(i, o, 0.01, r))
    large = gradient_norms(lambda i, o, r: init.normal(i, o, 1.0, r))
    xavier = gradient_norms(init.xavier_normal)
    assert np.all(xavier / small > 3e4)  # "about 1e5 times smaller, in every layer"
    assert 2e4 < large[0] / large[-1] < 1e6  # "explodes towards the input, about 1e5"
    assert 0.5 < xavier[0] / xavier[-1] < 2.0


def test_relu_xavier_shrinks_by_sqrt_2_and_he_keeps_the_spread(x_wide):
    xavier = forward(activations.relu, weights_with(init.xavier_normal), x_wide)
    he = forward(activations.relu, weights_with(init.he_normal), x_wide)
    per_layer = (xavier[-1].std() / xavier[0].std()) ** (1 / 9)
    assert per_layer == pytest.approx(1 / np.sqrt(2), rel=0.05)
    assert 0.8 < he[-1].std() / he[0].std() < 1.25


def test_symmetry_demo():
    X, y = data.make_spirals(300, n_classes=3, seed=0)
    results = {}
    for value in (0.0, 0.5, None):
        net = network.build_mlp(2, [16], 3, activation="tanh", init="xavier_normal", seed=0)
        if value is not None:
            for layer in net.layers:
                if isinstance(layer, layers.Affine):
                    layer.params["W"][...] = value
        history = train.train(net, optim.SGD(lr=1.0), X, y, epochs=100, batch_size=30, seed=0, progress=False)
        results[value] = (np.unique(net.params["W1"], axis=1).shape[1], history["train_acc"][-1], net.params["W1"])
    assert results[0.0][0] == 1 and np.all(results[0.0][2] == 0) and results[0.0][1] == pytest.approx(1 / 3)
    assert results[0.5][0] == 1 and results[0.5][1] < 0.6
    assert results[None][0] == 16 and results[None][1] > 0.9


@pytest.mark.slow
def test_spiral_training_claims():
    X, y = data.make_spirals(600, n_classes=3, seed=0)
    histories = {}
    for weight_init in (0.01, "xavier_normal", "he_normal"):
        net = network.build_mlp(2, [64] * 5, 3, activation="relu", init=weight_init, seed=0)
        histories[weight_init] = train.train(net, optim.SGD(lr=0.05), X, y, epochs=40, batch_size=50, seed=0,
                                             progress=False)
    assert max(abs(v - np.log(3)) for v in histories[0.01]["train_loss"]) < 0.01
    xavier, he = histories["xavier_normal"]["train_loss"], histories["he_normal"]["train_loss"]
    assert xavier[0] > 1.0 and he[0] < xavier[0]  # Xavier starts slowly
    assert all(h < x for h, x in zip(he[:20], xavier[:20], strict=True))  # He learns fastest
    assert histories["xavier_normal"]["train_acc"][-1] > 0.9 and histories["he_normal"]["train_acc"][-1] > 0.95
