"""The reference NumPy library of *Training Deep Neural Networks from Scratch*.

One module per concept, in the order the course meets them:

========================  ======================================================================
``solutions.gradcheck``   numerical gradients and relative errors (chapter 1, 2)
``solutions.activations`` sigmoid, tanh, ReLU family, ELU, SiLU, softmax (chapter 3)
``solutions.losses``      binary and softmax cross-entropy, focal loss, L1/L2 penalties
``solutions.layers``      affine, activation, dropout, batch norm, layer norm layers
``solutions.init``        normal, Xavier and He initializers (chapter 6)
``solutions.optim``       SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adam (chapter 8)
``solutions.network``     a sequential network built from a spec, with a loss and weight decay
``solutions.train``       a seeded mini-batch trainer with early stopping
``solutions.metrics``     accuracy and the confusion matrix
``solutions.data``        iris, MNIST and small synthetic data sets, all offline
``solutions.search``      grid, random and coarse-to-fine hyperparameter search (chapter 9)
``solutions.plots``       the figures the chapters draw
========================  ======================================================================

Everything is float32 end to end; gradient checks run in float64.
"""

import importlib

__all__ = [
    "activations",
    "data",
    "gradcheck",
    "init",
    "layers",
    "losses",
    "metrics",
    "network",
    "optim",
    "plots",
    "search",
    "train",
]


def __getattr__(name: str):
    """Import submodules on first use, so ``import solutions`` stays fast."""
    if name in __all__:
        return importlib.import_module(f"solutions.{name}")
    raise AttributeError(f"module 'solutions' has no attribute {name!r}")
