"""Reproduce seed 001's MNIST labs 20-24 with the `solutions` library, with fixed seeds.

Each lab trains on all 60,000 training images and reports accuracy on the
10,000 test images, next to the lecture's figure and this course's target.

    python bench/accuracy_labs.py [--labs 20 21 22 24]

Lab 21's lecture code initializes with a plain random normal; here lab 21 uses
the small N(0, 0.01^2) of cs231n's notes (not a variance-preserving init), and
lab 22 onwards He initialization (He et al. 2015) for the ReLU layers.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

from solutions import data, network, optim, train


@dataclass(frozen=True)
class Lab:
    number: int
    description: str
    lecture: float  # the lecture's test accuracy, in %
    target: float  # this course's target, in %
    hidden: list[int] = field(default_factory=list)
    init: str | float = "he"
    drop_prob: float = 0.0
    epochs: int = 1
    lr: float = 1e-3
    lr_decay: float = 1.0


LABS = [
    Lab(20, "softmax regression 784-10, Adam", 90.23, 92.0, [], "xavier", epochs=4, lr=5e-3, lr_decay=0.6),
    Lab(21, "4-layer ReLU 784-256x3-10, N(0, 0.01^2) init, Adam", 94.55, 96.5, [256] * 3, 0.01, epochs=3),
    Lab(22, "4-layer ReLU 784-256x3-10, He init, Adam", 97.83, 97.9, [256] * 3, "he", epochs=8, lr_decay=0.8),
    Lab(23, "6-layer ReLU 784-256x5-10, He init, Adam", 97.23, 97.23, [256] * 5, "he", epochs=7, lr_decay=0.8),
    Lab(24, "6-layer ReLU 784-256x5-10, He init, dropout 0.2, Adam", 98.13, 98.2, [256] * 5, "he", 0.2,
        epochs=7, lr_decay=0.8),
]


def run_lab(lab: Lab, x_train, y_train, x_test, y_test) -> tuple[float, float]:
    """Train one lab; returns (test accuracy in %, seconds)."""
    net = network.build_mlp(784, lab.hidden, 10, init=lab.init, drop_prob=lab.drop_prob, seed=0)
    start = time.perf_counter()
    train.train(net, optim.Adam(lr=lab.lr), x_train, y_train, epochs=lab.epochs, batch_size=100,
                lr_decay=lab.lr_decay, seed=0, train_eval_size=1000, progress=False)
    seconds = time.perf_counter() - start
    return 100 * net.accuracy(x_test, y_test), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", nargs="+", type=int, default=[lab.number for lab in LABS])
    args = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    print(f"{'lab':<4} {'network':<56} {'lecture':>8} {'target':>7} {'ours':>7} {'epochs':>6} {'seconds':>8}")
    failures = 0
    for lab in LABS:
        if lab.number not in args.labs:
            continue
        accuracy, seconds = run_lab(lab, x_train, y_train, x_test, y_test)
        verdict = "ok" if accuracy >= lab.target else "BELOW TARGET"
        failures += verdict != "ok"
        print(f"{lab.number:<4} {lab.description:<56} {lab.lecture:7.2f}% {lab.target:6.2f}% "
              f"{accuracy:6.2f}% {lab.epochs:>6} {seconds:8.1f}  {verdict}", flush=True)
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
