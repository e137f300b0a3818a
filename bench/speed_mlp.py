"""Epoch time of the `solutions` NumPy MLP against PyTorch CPU on the same network.

Both train the same MLP on MNIST (60,000 images, batch 100, float32, plain SGD),
seeing the same mini-batches in the same order. Runs alternate between NumPy
and PyTorch within this one process, so both meet the same machine load, and
the median epoch time of each is reported with the ratio NumPy / PyTorch.

    python bench/speed_mlp.py [--rounds 3] [--nets 784-256-256-10 784-256x5-10]

PyTorch is optional: ``make bench-deps`` installs exactly torch==2.13.0 (CPU).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from solutions import data, network, optim

BATCH_SIZE = 100
LEARNING_RATE = 0.1


def parse_net(text: str) -> tuple[int, list[int], int]:
    """'784-256x5-10' -> (784, [256]*5, 10)."""
    parts = text.split("-")
    hidden: list[int] = []
    for part in parts[1:-1]:
        width, _, repeat = part.partition("x")
        hidden += [int(width)] * int(repeat or 1)
    return int(parts[0]), hidden, int(parts[-1])


def numpy_epoch(net, opt, x, y, batches) -> float:
    start = time.perf_counter()
    for idx in batches:
        _, grads = net.gradients(x[idx], y[idx])
        opt.update(net.params, grads)
    return time.perf_counter() - start


def torch_model(input_dim, hidden, classes):
    import torch

    layers, width = [], input_dim
    for units in hidden:
        layers += [torch.nn.Linear(width, units), torch.nn.ReLU()]
        width = units
    layers.append(torch.nn.Linear(width, classes))
    return torch.nn.Sequential(*layers)


def torch_epoch(model, opt, x, y, batches) -> float:
    import torch

    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    for idx in batches:
        xb, yb = torch.from_numpy(x[idx]), torch.from_numpy(y[idx])
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="epochs per framework (alternating)")
    parser.add_argument("--nets", nargs="+", default=["784-256-256-10", "784-256x5-10"])
    args = parser.parse_args()

    (x, y), _ = data.load_mnist()
    try:
        import torch

        torch.manual_seed(0)
        have_torch = True
        print(f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads)")
    except ImportError:
        have_torch = False
        print(f"numpy {np.__version__}; torch is not installed (make bench-deps): NumPy times only")

    rng = np.random.default_rng(0)
    for spec in args.nets:
        input_dim, hidden, classes = parse_net(spec)
        net = network.build_mlp(input_dim, hidden, classes, init="he", seed=0)
        opt = optim.SGD(lr=LEARNING_RATE)
        if have_torch:
            model = torch_model(input_dim, hidden, classes)
            torch_opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
        numpy_times, torch_times = [], []
        for _ in range(args.rounds):
            batches = [rng.permutation(len(x))[i : i + BATCH_SIZE] for i in range(0, len(x), BATCH_SIZE)]
            numpy_times.append(numpy_epoch(net, opt, x, y, batches))
            if have_torch:
                torch_times.append(torch_epoch(model, torch_opt, x, y, batches))
        numpy_s = statistics.median(numpy_times)
        line = f"{spec:<16} batch {BATCH_SIZE}, float32, SGD: numpy {numpy_s:6.2f} s/epoch"
        if have_torch:
            torch_s = statistics.median(torch_times)
            line += f" | torch {torch_s:6.2f} s/epoch | ratio numpy/torch {numpy_s / torch_s:5.2f}"
        print(line + f"  (median of {args.rounds}; all: numpy {[round(t, 2) for t in numpy_times]}"
              + (f", torch {[round(t, 2) for t in torch_times]})" if have_torch else ")"))


if __name__ == "__main__":
    main()
