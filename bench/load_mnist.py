"""Load time of `solutions.data.load_mnist` against a bare `np.load` of the same file.

The peer is the least any loader must do: `np.load("data/mnist.npz")` and read its
four arrays. `load_mnist` also checks the file's sha256 (on the first call of a
process, "cold") and converts the images to float32 in [0, 1] (at every call; later
calls reuse the checked uint8 arrays, "warm"). Both are measured in this run, on
this machine, alternating, so the ratios are comparable across machines. The
spec: a load takes well under a second.

    .venv/bin/python bench/load_mnist.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from solutions import data  # noqa: E402


def seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def bare_load() -> None:
    with np.load(data.data_dir() / data.MNIST_FILE) as archive:
        for name in data.MNIST_SHAPES:
            archive[name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="measurements of each (alternating)")
    args = parser.parse_args()
    cold, warm, peer = [], [], []
    for _ in range(args.rounds):
        data._mnist_arrays.cache_clear()
        cold.append(seconds(data.load_mnist))
        warm.append(seconds(data.load_mnist))
        peer.append(seconds(bare_load))
    peer_s = statistics.median(peer)
    for name, times in [("load_mnist, cold (sha256 + decode + float32)", cold), ("load_mnist, warm (float32)", warm)]:
        median = statistics.median(times)
        print(f"{name:46s} {median:6.3f} s   ratio to np.load {median / peer_s:5.2f}")
    print(f"{'np.load of the same file (peer)':46s} {peer_s:6.3f} s   (median of {args.rounds})")


if __name__ == "__main__":
    main()
