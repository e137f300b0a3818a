"""Run every benchmark and print its figures (see bench/README.md for recorded ones)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    status = 0
    for script in ("speed_mlp.py", "load_mnist.py", "accuracy_labs.py"):
        print(f"== {script} ==", flush=True)
        status |= subprocess.call([sys.executable, str(HERE / script)])
    raise SystemExit(status)
