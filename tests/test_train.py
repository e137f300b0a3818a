"""The trainer: reaches the target on iris, is deterministic, stops early, guards against NaN."""

import numpy as np
import pytest

from solutions import data, network, optim, train

pytestmark = pytest.mark.foundation


@pytest.fixture(scope="module")
def iris_split():
    x, y = data.load_iris()
    x_train, x_test, y_train, y_test = data.train_test_split(x, y, test_fraction=0.2, seed=0)
    x_train, x_test, _ = data.standardize(x_train, x_test)
    return x_train, x_test, y_train, y_test


def fit_iris(iris_split, seed=0, **kwargs):
    x_train, x_test, y_train, y_test = iris_split
    net = network.build_mlp(4, [8], 3, activation="relu", init="he", seed=seed)
    history = train.train(net, optim.Adam(lr=0.01), x_train, y_train, x_test, y_test,
                          epochs=60, batch_size=16, seed=seed, progress=False, **kwargs)
    return net, history


def test_reaches_more_than_95_percent_on_iris():
    # Five stratified 80/20 splits: iris's test set is 30 flowers, so one split
    # can hold three of the few overlapping versicolor/virginica samples (90%).
    x, y = data.load_iris()
    accuracies = []
    for split_seed in range(5):
        x_train, x_test, y_train, y_test = data.train_test_split(x, y, test_fraction=0.2, seed=split_seed)
        x_train, x_test, _ = data.standardize(x_train, x_test)
        net, _ = fit_iris((x_train, x_test, y_train, y_test))
        accuracies.append(net.accuracy(x_test, y_test))
    assert np.mean(accuracies) > 0.95, accuracies
    assert min(accuracies) >= 0.89, accuracies


def test_training_history_is_complete(iris_split):
    net, history = fit_iris(iris_split)
    x_train, x_test, y_train, y_test = iris_split
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert len(history["epoch"]) == 60 and len(history["val_acc"]) == 60
    assert len(history["step_loss"]) == 60 * int(np.ceil(len(x_train) / 16))


def test_seeded_runs_are_identical(iris_split):
    _, a = fit_iris(iris_split, seed=5)
    _, b = fit_iris(iris_split, seed=5)
    assert a["step_loss"] == b["step_loss"]


def test_minibatches_cover_every_sample_once_per_epoch():
    batches = train.minibatches(10, 3, np.random.default_rng(0))
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))


def test_early_stopping_restores_the_best_epoch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 5)).astype(np.float32)
    y = rng.integers(0, 3, 60)  # random labels: validation loss soon gets worse
    xv, yv = rng.standard_normal((40, 5)).astype(np.float32), rng.integers(0, 3, 40)
    net = network.build_mlp(5, [64], 3, seed=0)
    history = train.train(net, optim.Adam(lr=0.05), x, y, xv, yv, epochs=200, batch_size=10,
                          patience=3, progress=False)
    assert "early stopping" in history["stopped"]
    best = history["best_epoch"]
    assert len(history["epoch"]) == best + 3
    assert net.evaluate(xv, yv)[0] == pytest.approx(min(history["val_loss"]), rel=1e-5)


def test_early_stopping_can_monitor_validation_accuracy():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((60, 5)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    xv, yv = rng.standard_normal((40, 5)).astype(np.float32), rng.integers(0, 3, 40)
    net = network.build_mlp(5, [64], 3, seed=0)
    history = train.train(net, optim.Adam(lr=0.05), x, y, xv, yv, epochs=200, batch_size=10,
                          patience=3, monitor="val_acc", progress=False)
    assert "val_acc" in history["stopped"]
    assert history["val_acc"][history["best_epoch"] - 1] == max(history["val_acc"])
    assert net.accuracy(xv, yv) == pytest.approx(max(history["val_acc"]))
    with pytest.raises(ValueError, match="monitor"):
        train.train(net, optim.SGD(), x, y, xv, yv, patience=1, monitor="loss", progress=False)


def test_divergence_is_reported_with_epoch_and_step():
    x, y = data.load_iris()
    net = network.build_mlp(4, [8, 8], 3, seed=0)
    with pytest.raises(train.TrainingDiverged, match=r"epoch \d+, step \d+"):
        train.train(net, optim.SGD(lr=1e30), x * 1e3, y, epochs=20, batch_size=50, progress=False)
    net = network.build_mlp(4, [8, 8], 3, seed=0)
    history = train.train(net, optim.SGD(lr=1e30), x * 1e3, y, epochs=20, batch_size=50,
                          on_nonfinite="stop", progress=False)
    assert "diverged" in history["stopped"] and "lower the learning rate" in history["stopped"]
    assert len(history["epoch"]) < 20 and all(np.isfinite(history["step_loss"]))


def test_lr_decay_and_argument_checks(iris_split):
    x_train, x_test, y_train, y_test = iris_split
    opt = optim.SGD(lr=0.1)
    train.train(network.build_mlp(4, [4], 3), opt, x_train, y_train, epochs=3, lr_decay=0.5, progress=False)
    assert opt.lr == pytest.approx(0.1 * 0.5**3)
    with pytest.raises(ValueError, match="validation data"):
        train.train(network.build_mlp(4, [4], 3), opt, x_train, y_train, patience=2, progress=False)
    with pytest.raises(ValueError, match="samples"):
        train.train(network.build_mlp(4, [4], 3), opt, x_train, y_train[:-1], progress=False)
