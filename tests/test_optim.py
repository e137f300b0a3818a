"""Optimizers: first steps against hand-computed numbers, conventions, state, dtype."""

import numpy as np
import pytest

from solutions import optim as O

pytestmark = pytest.mark.foundation


def run(optimizer, w0, grads):
    params = {"w": np.array(w0, dtype=np.float64)}
    path = []
    for g in grads:
        optimizer.update(params, {"w": np.array(g, dtype=np.float64)})
        path.append(params["w"].copy())
    return np.array(path)


def test_sgd_first_step():
    assert run(O.SGD(lr=0.1), [1.0], [[2.0]])[0] == pytest.approx([0.8])


def test_momentum_lecture_convention_by_hand():
    # m = -lr*g + beta*m; w += m. g = 1, 1, 1; lr = 0.1, beta = 0.9
    # m1 = -0.1 -> w = 0.9; m2 = -0.1 - 0.09 = -0.19 -> w = 0.71; m3 = -0.1 - 0.171 = -0.271 -> w = 0.439
    path = run(O.Momentum(lr=0.1, momentum=0.9), [1.0], [[1.0]] * 3)
    np.testing.assert_allclose(path[:, 0], [0.9, 0.71, 0.439])


def test_momentum_matches_the_cs231n_convention():
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((20, 3))
    lr, rho = 0.05, 0.8
    ours = run(O.Momentum(lr=lr, momentum=rho), np.zeros(3), grads)
    x, v, theirs = np.zeros(3), np.zeros(3), []
    for g in grads:  # cs231n: v = rho v + dx; x -= lr v
        v = rho * v + g
        x = x - lr * v
        theirs.append(x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_nesterov_first_steps_by_hand():
    # v1 = -lr g = -0.1; x1 = x0 + v1 + rho (v1 - v0) = 1 - 0.1 - 0.09 = 0.81
    # v2 = 0.9 * -0.1 - 0.1 = -0.19; x2 = 0.81 - 0.19 + 0.9 * (-0.19 + 0.1) = 0.539
    np.testing.assert_allclose(run(O.Nesterov(lr=0.1, momentum=0.9), [1.0], [[1.0]] * 2)[:, 0], [0.81, 0.539])


def test_nesterov_change_of_variables_equals_the_look_ahead_form():
    # on f(x) = 0.5 a x^2 the look-ahead form can be run exactly: grad f(y) = a y
    a, lr, rho = 3.0, 0.05, 0.9
    x, v, xs_lookahead = 2.0, 0.0, []
    for _ in range(15):
        v = rho * v - lr * a * (x + rho * v)
        x = x + v
        xs_lookahead.append(x + rho * v)  # x~ = x + rho v
    opt, params, xs_ours = O.Nesterov(lr=lr, momentum=rho), {"x": np.array([2.0])}, []
    for _ in range(15):
        opt.update(params, {"x": a * params["x"]})
        xs_ours.append(params["x"][0])
    np.testing.assert_allclose(xs_ours, xs_lookahead, rtol=1e-12)


def test_adagrad_first_steps_by_hand():
    # h = 4 -> w = 1 - 0.1*2/2 = 0.9; h = 4 + 4 = 8 -> w = 0.9 - 0.1*2/sqrt(8)
    path = run(O.AdaGrad(lr=0.1, eps=0.0), [1.0], [[2.0], [2.0]])
    np.testing.assert_allclose(path[:, 0], [0.9, 0.9 - 0.2 / np.sqrt(8)])


def test_rmsprop_first_step_by_hand():
    # h = 0.01 * 4 = 0.04 -> w = 1 - 0.1 * 2 / 0.2 = 0.0
    path = run(O.RMSProp(lr=0.1, decay_rate=0.99, eps=0.0), [1.0], [[2.0]])
    assert path[0, 0] == pytest.approx(0.0, abs=1e-12)


def test_adam_first_step_is_lr_times_sign_thanks_to_bias_correction():
    # t = 1: m_hat = g, v_hat = g^2, so the step is lr * g / |g| = lr * sign(g)
    path = run(O.Adam(lr=0.01, eps=0.0), [1.0, 1.0], [[3.0, -0.002]])
    np.testing.assert_allclose(path[0], [0.99, 1.01])


def test_adam_matches_the_textbook_loop_over_many_steps():
    rng = np.random.default_rng(1)
    grads = rng.standard_normal((50, 4))
    ours = run(O.Adam(lr=0.01), np.zeros(4), grads)
    x, m, v, theirs = np.zeros(4), np.zeros(4), np.zeros(4), []
    for t, g in enumerate(grads, start=1):  # t starts at 1
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        x = x - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        theirs.append(x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_state_is_kept_per_parameter():
    opt = O.Adam(lr=0.1)
    params = {"a": np.zeros(2), "b": np.zeros(3)}
    opt.update(params, {"a": np.ones(2), "b": np.ones(3)})
    opt.update({"a": params["a"]}, {"a": np.ones(2)})
    assert opt.state["a"]["t"] == 2 and opt.state["b"]["t"] == 1
    assert opt.state["b"]["m"].shape == (3,)


@pytest.mark.parametrize("optimizer", [O.SGD, O.Momentum, O.Nesterov, O.AdaGrad, O.RMSProp, O.Adam])
def test_float32_parameters_stay_float32(optimizer):
    opt = optimizer(lr=0.01)
    params = {"W1": np.ones((3, 2), dtype=np.float32)}
    for _ in range(3):
        opt.update(params, {"W1": np.full((3, 2), 0.5, dtype=np.float32)})
    assert params["W1"].dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state["W1"].values() if isinstance(v, np.ndarray))


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="lr"):
        O.SGD(lr=0.0)
    with pytest.raises(ValueError, match="momentum"):
        O.Momentum(momentum=1.0)
    with pytest.raises(ValueError, match="momentum"):
        O.Nesterov(momentum=-0.1)
