"""Chapter 3 (activations): the reference answers reproduce the seeds' values and pass gradient
checks, and the claims the chapter's text makes about its demos and the library hold."""

import numpy as np
import pytest
from chapter_tools import answer_namespace

from solutions import activations, data, gradcheck, layers, network, optim, train

pytestmark = pytest.mark.ch03

CHAPTER = "03_activations"
ANSWERS = ["relu_answer", "leaky_relu_answer", "backward_answer", "elu_answer"]

# Seed 000, Exercise 1: x = -10, -5, -0.5, 0, 1, 5, 10, 20, 100
SEED_000_X = [-10, -5, -0.5, 0, 1, 5, 10, 20, 100]
SEED_000_RELU = [0, 0, 0, 0, 1, 5, 10, 20, 100]
SEED_000_LEAKY = [-0.1, -0.05, -0.005, 0, 1, 5, 10, 20, 100]


@pytest.fixture(scope="module")
def ns():
    return answer_namespace(CHAPTER, ANSWERS)


def random_inputs(rng, shape, dtype):
    return (3.0 * rng.standard_normal(shape)).astype(dtype)


def test_seed_000_exercise_1(ns):
    x = np.array(SEED_000_X, dtype=np.float32)
    np.testing.assert_allclose(ns["relu"](x), SEED_000_RELU)
    np.testing.assert_allclose(ns["leaky_relu"](x), SEED_000_LEAKY, rtol=1e-6)
    assert ns["relu"](x).dtype == np.float32 and ns["leaky_relu"](x).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_librarys_branch_free_versions_compute_the_answers_values(ns, dtype):
    """The chapter says so (its note after the timings); later chapters train with the library's versions."""
    rng = np.random.default_rng(7)
    x = random_inputs(rng, (6, 5), dtype)
    x[0, :3] = 0.0  # the subgradient convention at the kink
    dout = rng.standard_normal((6, 5)).astype(dtype)
    before = x.copy()
    pairs = [
        (ns["leaky_relu"](x, slope=0.2), activations.leaky_relu(x, slope=0.2)),
        (ns["elu"](x, alpha=0.5), activations.elu(x, alpha=0.5)),
        (ns["leaky_relu_backward"](dout, x, slope=0.3), activations.leaky_relu_backward(dout, x, slope=0.3)),
        (ns["elu_backward"](dout, x, alpha=0.5), activations.elu_backward(dout, x, alpha=0.5)),
    ]
    for ours, library in pairs:
        assert ours.dtype == library.dtype == dtype
        np.testing.assert_allclose(ours, library, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(x, before)


def test_backwards_pass_a_numerical_gradient_check(ns):
    rng = np.random.default_rng(11)
    x = rng.uniform(0.05, 3.0, size=(5, 4)) * rng.choice([-1.0, 1.0], size=(5, 4))
    dout = rng.standard_normal((5, 4))
    for forward, backward in [
        ("relu", "relu_backward"), ("leaky_relu", "leaky_relu_backward"), ("elu", "elu_backward")
    ]:
        numeric = gradcheck.numerical_gradient(ns[forward], x, dout)
        assert gradcheck.relative_error(ns[backward](dout, x), numeric) < 1e-8


def test_elu_is_stable(ns):
    big = np.array([-1000.0, -90.0, 90.0, 1000.0], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise"):
        out = ns["elu"](big)
        grad = ns["elu_backward"](np.ones_like(big), big)
    np.testing.assert_allclose(out, [-1.0, -1.0, 90.0, 1000.0])
    np.testing.assert_allclose(grad, [0.0, 0.0, 1.0, 1.0], atol=1e-30)


def test_sigmoid_derivative_is_at_most_a_quarter():
    v = np.linspace(-20, 20, 4001)
    slope = activations.sigmoid_backward(np.ones_like(v), v)
    assert slope.max() == pytest.approx(0.25)
    assert v[slope.argmax()] == pytest.approx(0.0, abs=1e-9)
    assert np.all(slope <= 0.25)


# --- the chapter's claims about its demos (so that library changes cannot silently falsify the text) ---

X_XOR, Y_XOR = data.make_xor(200, noise=0.1, seed=0)


def train_xor(net, lr=0.5):
    return train.train(net, optim.SGD(lr=lr), X_XOR, Y_XOR, epochs=100, batch_size=20, seed=0, progress=False)


def test_deep_sigmoid_gradients_vanish_but_relu_and_tanh_do_not():
    def norms(activation):
        net = network.build_mlp(2, [50] * 10, 2, activation=activation, init="xavier_normal", seed=0)
        _, grads = net.gradients(X_XOR, Y_XOR)
        return np.array([np.linalg.norm(grads[f"W{k}"]) for k in range(1, 12)])

    sigmoid = norms("sigmoid")
    assert sigmoid[0] / sigmoid[-1] < 1e-6  # "about eight orders of magnitude"
    per_layer = (sigmoid[0] / sigmoid[-1]) ** 0.1
    assert 0.1 < per_layer < 0.25  # "a factor of about 6 per layer", at least the bound's 4
    for activation in ("tanh", "relu"):
        values = norms(activation)
        assert 0.3 < values[0] / values[-1] < 3.0


def test_labs_18_and_19(ns):
    deep_sigmoid = network.build_mlp(2, [10, 10, 10], 2, activation="sigmoid", init="xavier_normal", seed=0)
    shallow_sigmoid = network.build_mlp(2, [10], 2, activation="sigmoid", init="xavier_normal", seed=0)
    deep_relu = network.build_mlp(2, [10, 10, 10], 2, activation="relu", init="xavier_normal", seed=0)
    h_deep = train_xor(deep_sigmoid)
    assert h_deep["train_loss"][-1] == pytest.approx(np.log(2), abs=0.01)
    assert h_deep["train_acc"][-1] <= 0.55
    assert len(np.unique(deep_sigmoid.predict(X_XOR))) == 1  # "a single class"
    h_shallow = train_xor(shallow_sigmoid)
    assert h_shallow["train_acc"][-1] >= 0.8 and h_shallow["train_loss"][-1] < 0.6
    h_relu = train_xor(deep_relu)
    assert h_relu["train_acc"][-1] >= 0.9
    # the chapter's reference relu gives the same network the same result as the library's ReLU layer
    ours = network.build_mlp(2, [10, 10, 10], 2, activation="relu", init="xavier_normal", seed=0)

    class Own(layers.Layer):
        def forward(self, x, train=False):
            self._x = x
            return ns["relu"](x)

        def backward(self, dout):
            return ns["relu_backward"](dout, self._x)

    ours.layers = [Own() if isinstance(layer, layers.ReLU) else layer for layer in ours.layers]
    h_ours = train_xor(ours)
    np.testing.assert_allclose(h_ours["train_loss"], h_relu["train_loss"], rtol=1e-5)


def test_dead_relu_demo():
    def dead(net):
        out, fractions = X_XOR, []
        for layer in net.layers[:-1]:
            out = layer.forward(out)
            if not isinstance(layer, layers.Affine):
                fractions.append(float(np.mean(np.all(out <= 0, axis=0))))
        return fractions

    relu_net = network.build_mlp(2, [10, 10, 10], 2, activation="relu", init="xavier_normal", seed=0)
    assert train_xor(relu_net, lr=2.0)["train_acc"][-1] == pytest.approx(0.5)
    assert dead(relu_net)[-1] == 1.0
    _, grads = relu_net.gradients(X_XOR, Y_XOR)
    assert all(np.all(grads[f"W{k}"] == 0) for k in range(1, 5))
    assert train_xor(relu_net, lr=0.5)["train_acc"][-1] == pytest.approx(0.5)

    leaky_net = network.build_mlp(2, [10, 10, 10], 2, activation="leaky_relu", init="xavier_normal", seed=0)
    train_xor(leaky_net, lr=2.0)
    _, grads = leaky_net.gradients(X_XOR, Y_XOR)
    assert all(np.linalg.norm(grads[f"W{k}"]) > 0 for k in range(1, 5))
    assert train_xor(leaky_net, lr=0.5)["train_acc"][-1] > 0.6


def test_relu_sparsity_is_about_half():
    net = network.build_mlp(2, [100, 100, 100], 2, activation="relu", init="he_normal", seed=0)
    out = X_XOR
    for layer in net.layers[:-1]:
        out = layer.forward(out)
        if isinstance(layer, layers.ReLU):
            assert 0.4 < np.mean(out == 0) < 0.6
