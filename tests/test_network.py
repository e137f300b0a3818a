"""The sequential network: built from a spec, whole-network gradient checks, counts."""

import numpy as np
import pytest

from solutions import network as N
from solutions.gradcheck import check_gradients

pytestmark = pytest.mark.foundation


@pytest.mark.parametrize(
    "spec,tol,options",
    [
        (["affine 7", "relu", "affine 5", "tanh", "affine 3"], 1e-7, {"weight_decay_lambda": 0.05}),
        (["affine 6", "sigmoid", "affine 5", "leaky_relu", "affine 3"], 1e-7, {"weight_decay_lambda": 0.05}),
        # two normalization layers in one composition amplify the O(h^2) error of the
        # centred difference; each kernel alone is checked at 1e-8 in test_layers.py
        (["affine 6", "tanh", "batchnorm", "affine 5", "layernorm", "silu", "affine 3"], 1e-6,
         {"weight_decay_lambda": 0.05}),
        (["affine 6", "elu", "affine 3"], 1e-7, {"weight_decay_lambda": 0.05, "penalty": "l1"}),
        (["affine 6", "tanh", "affine 3"], 1e-7, {"loss": "focal_loss", "weight_decay_lambda": 0.05}),
    ],
    ids=["relu_tanh", "sigmoid_leaky", "bn_ln", "elu_l1", "focal_loss"],
)
def test_whole_network_gradients_match_numerical_ones(spec, tol, options):
    rng = np.random.default_rng(0)
    net = N.Sequential.from_spec(4, spec, init="xavier", seed=1, dtype=np.float64, **options)
    x, t = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
    _, grads = net.gradients(x, t)
    grads = {k: v.copy() for k, v in grads.items()}
    errors = check_gradients(lambda: net.loss(x, t, train=True), net.params, grads, tol=tol)
    assert set(errors) == set(net.params)


def test_weight_decay_is_the_l2_penalty_on_the_weights_only():
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)
    plain = N.build_mlp(4, [6], 3, seed=2, dtype=np.float64)
    decayed = N.build_mlp(4, [6], 3, seed=2, dtype=np.float64, weight_decay_lambda=0.3)
    for name, b in decayed.params.items():
        if name.startswith("b"):
            b[...] = rng.standard_normal(b.shape)  # non-zero biases, which must not be decayed
            plain.params[name][...] = b
    weights = [W for name, W in decayed.params.items() if name.startswith("W")]
    assert decayed.penalty() == pytest.approx(0.15 * sum(float(np.sum(W * W)) for W in weights))
    loss_plain, grads_plain = plain.gradients(x, t)
    loss_decayed, grads_decayed = decayed.gradients(x, t)
    assert loss_decayed == pytest.approx(loss_plain + decayed.penalty())
    for name, W in decayed.params.items():
        expected = grads_plain[name] + (0.3 * W if name.startswith("W") else 0.0)
        np.testing.assert_allclose(grads_decayed[name], expected, rtol=1e-12, atol=1e-15)
    assert decayed.evaluate(x, t)[0] == pytest.approx(plain.evaluate(x, t)[0])  # evaluation reports the data loss


def test_a_loss_of_your_own_as_a_forward_backward_pair():
    rng = np.random.default_rng(4)
    x, t = rng.standard_normal((6, 3)).astype(np.float32), rng.integers(0, 2, 6)
    calls = []

    def forward(z, labels):
        calls.append("forward")
        return float(np.mean(np.sum(z * z, axis=1)))

    def backward(z, labels):
        calls.append("backward")
        return 2.0 * z / len(z)

    net = N.build_mlp(3, [4], 2, seed=0, loss=(forward, backward))
    logits = net.forward(x)
    assert net.loss(x, t) == pytest.approx(float(np.mean(np.sum(logits * logits, axis=1))))
    _, grads = net.gradients(x, t)
    assert calls == ["forward", "forward", "backward"]
    np.testing.assert_allclose(grads["b2"], np.sum(2.0 * logits / len(logits), axis=0), rtol=1e-5)
    assert net.evaluate(x, t)[0] == pytest.approx(forward(logits, t))


def test_unknown_loss_or_penalty_is_refused():
    with pytest.raises(ValueError, match="unknown loss 'mse'"):
        N.build_mlp(2, [2], 2, loss="mse")
    with pytest.raises(ValueError, match="unknown penalty 'l3'"):
        N.build_mlp(2, [2], 2, penalty="l3")


def test_a_bias_right_before_batch_norm_gets_no_gradient():
    # E[Wx + b] absorbs b, so batch norm subtracts it again (seed 002): the bias is redundant
    rng = np.random.default_rng(2)
    net = N.Sequential.from_spec(4, ["affine 6", "batchnorm", "relu", "affine 3"], seed=0, dtype=np.float64)
    _, grads = net.gradients(rng.standard_normal((8, 4)), rng.integers(0, 3, 8))
    assert np.abs(grads["b1"]).max() < 1e-12 and np.abs(grads["W1"]).max() > 1e-3


def test_parameter_names_and_counts():
    net = N.build_mlp(784, [256, 256], 10)
    assert list(net.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert net.num_params() == 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
    bn = N.build_mlp(5, [4, 3], 2, batch_norm=True)
    assert list(bn.params) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    # seed 001's 25-16-16-9-9 net: 881 weights, 931 with biases
    lecture = N.build_mlp(25, [16, 16, 9], 9)
    assert lecture.num_params() == 881 + 16 + 16 + 9 + 9
    assert "total" in lecture.summary()


def test_params_are_the_layers_own_arrays():
    net = N.build_mlp(3, [4], 2, seed=0)
    net.params["W1"][...] = 0.0
    assert not net.layers[0].params["W"].any()


def test_first_affine_layer_skips_its_input_gradient():
    net = N.build_mlp(3, [4, 4], 2)
    affines = [layer for layer in net.layers if type(layer).__name__ == "Affine"]
    assert [a.need_input_grad for a in affines] == [False, True, True]


def test_float32_through_forward_backward_and_update():
    from solutions.optim import Adam

    rng = np.random.default_rng(1)
    net = N.build_mlp(6, [5, 5], 3, drop_prob=0.2, batch_norm=True, weight_decay_lambda=1e-3)
    x = rng.standard_normal((10, 6)).astype(np.float32)
    loss, grads = net.gradients(x, rng.integers(0, 3, 10))
    assert isinstance(loss, float)
    assert all(g.dtype == np.float32 for g in grads.values())
    Adam(lr=1e-3).update(net.params, grads)
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert net.forward(x).dtype == np.float32


def test_seeded_builds_are_identical_and_dropout_is_off_at_test_time():
    a = N.build_mlp(4, [8], 3, drop_prob=0.5, seed=3)
    b = N.build_mlp(4, [8], 3, drop_prob=0.5, seed=3)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_array_equal(a.forward(x), a.forward(x))  # eval mode is deterministic
    assert not np.array_equal(a.forward(x, train=True), a.forward(x))


def test_predict_and_accuracy():
    net = N.build_mlp(2, [3], 2, seed=0)
    x = np.random.default_rng(0).standard_normal((7, 2)).astype(np.float32)
    labels = net.predict(x, batch_size=3)
    assert labels.shape == (7,) and net.accuracy(x, labels) == 1.0
    assert net.accuracy(x, np.eye(2)[labels]) == 1.0  # one-hot targets work too


@pytest.mark.parametrize(
    "spec,message",
    [(["relu"], "no 'affine N'"), (["affine"], "affine N"), (["conv 3"], "kind must be"), (["dropout"], "dropout P")],
)
def test_bad_specs_are_refused_with_the_item_named(spec, message):
    with pytest.raises(ValueError, match=message):
        N.Sequential.from_spec(4, spec)


def test_dropout_on_the_input_layer_trains():
    net = N.Sequential.from_spec(4, ["dropout 0.2", "affine 5", "relu", "affine 2"], seed=0)
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    loss, grads = net.gradients(x, np.array([0, 1, 0, 1, 0, 1]))
    assert np.isfinite(loss) and grads["W1"].shape == (4, 5)


def test_backward_before_loss_is_an_error():
    with pytest.raises(RuntimeError, match="loss"):
        N.build_mlp(2, [2], 2).backward()
