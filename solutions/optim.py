"""Optimizers (최적화 기법): one API, ``optimizer.update(params, grads)``.

``params`` and ``grads`` are dicts with the same keys (``"W1"``, ``"b1"``, ...).
Every optimizer updates the parameter arrays *in place*, so a network that
holds them sees the change, and keeps its state (velocities, squared-gradient
sums, step counts) per parameter name, created the first time a name is seen.

The learning rate ``lr`` and every other constant are Python floats, so a
float32 parameter stays float32.

Weight decay is not an optimizer setting here: it is the L2 penalty of the
loss (``solutions.network.Sequential(..., weight_decay_lambda=...)``), so its
gradient reaches every optimizer the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


class Optimizer:
    """Base class: ``update`` calls ``step`` on each parameter with its own state dict."""

    def __init__(self, lr: float = 0.01) -> None:
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}")
        self.lr = float(lr)
        self.state: dict[str, dict] = {}

    def update(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        """Update every parameter in ``params`` in place, from ``grads``."""
        for name, param in params.items():
            self.step(name, param, grads[name], self.state.setdefault(name, {}))

    def step(self, name: str, param: np.ndarray, grad: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v}" for k, v in vars(self).items() if k != "state")
        return f"{type(self).__name__}({settings})"


class SGD(Optimizer):
    """Stochastic gradient descent: w <- w - lr * g."""

    def step(self, name, param, grad, state) -> None:
        param -= self.lr * grad


class Momentum(Optimizer):
    """SGD with momentum, in the convention of the lecture notes (seed 000).

    The lecture writes, with delta-rule update dw = alpha * delta * x = -lr * g::

        m = dw + beta * m_prev;   w <- w + m;   m_prev = m        (m_prev starts at 0)

    so here ``m = momentum * m - lr * g`` and ``w += m``. The other two conventions
    in the seeds give *identical* trajectories once mapped onto this one:

    * DLFS (seed 004): v <- alpha v - eta dL/dW; W <- W + v. The same rule with
      v = m, alpha = momentum and eta = lr.
    * cs231n (seed 003): v = rho v + dx; x -= learning_rate * v. Here v = -m / lr
      and rho = momentum: the velocity is kept without the learning rate, so the
      two agree exactly while lr is constant (and differ if lr changes mid-run).

    Args:
        lr: the learning rate (the lecture's alpha).
        momentum: beta in (0, 1); 0.9 is usual. Too large a beta overshoots.
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)

    def step(self, name, param, grad, state) -> None:
        m = state.setdefault("m", np.zeros_like(param))
        m *= self.momentum
        m -= self.lr * grad
        param += m


class Nesterov(Optimizer):
    """Nesterov accelerated gradient, in seed 003's change-of-variables form.

    The look-ahead form evaluates the gradient at x + rho v::

        v <- rho v - lr grad f(x + rho v);   x <- x + v

    Substituting x~ = x + rho v gives an update that needs the gradient at the
    current parameters only (the form every library implements)::

        v_new = rho v - lr grad f(x~);   x~ <- x~ + v_new + rho (v_new - v)
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)

    def step(self, name, param, grad, state) -> None:
        v = state.setdefault("v", np.zeros_like(param))
        v_prev = v.copy()
        v *= self.momentum
        v -= self.lr * grad
        param += v + self.momentum * (v - v_prev)


class AdaGrad(Optimizer):
    """AdaGrad (Duchi et al. 2011): a per-parameter step that shrinks as h grows.

    h <- h + g * g;   w <- w - lr * g / (sqrt(h) + eps).

    (Seed 004 prints ``W <- W + eta g / sqrt(h)``: the sign must be minus.)
    """

    def __init__(self, lr: float = 0.01, eps: float = 1e-7) -> None:
        super().__init__(lr)
        self.eps = float(eps)

    def step(self, name, param, grad, state) -> None:
        h = state.setdefault("h", np.zeros_like(param))
        h += grad * grad
        param -= self.lr * grad / (np.sqrt(h) + self.eps)


class RMSProp(Optimizer):
    """RMSProp: AdaGrad with a leaky average, so the step does not decay to zero.

    h <- rho h + (1 - rho) g * g;   w <- w - lr * g / (sqrt(h) + eps).
    """

    def __init__(self, lr: float = 0.001, decay_rate: float = 0.99, eps: float = 1e-7) -> None:
        super().__init__(lr)
        self.decay_rate = float(decay_rate)
        self.eps = float(eps)

    def step(self, name, param, grad, state) -> None:
        h = state.setdefault("h", np.zeros_like(param))
        h *= self.decay_rate
        h += (1.0 - self.decay_rate) * grad * grad
        param -= self.lr * grad / (np.sqrt(h) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): momentum plus RMSProp, with bias correction.

    For step t = 1, 2, 3, ... (t counts from 1)::

        m <- beta1 m + (1 - beta1) g          v <- beta2 v + (1 - beta2) g * g
        m_hat = m / (1 - beta1^t)             v_hat = v / (1 - beta2^t)
        w <- w - lr * m_hat / (sqrt(v_hat) + eps)

    Starting t at 0, as a literal reading of seed 003's ``for t in range(...)``
    does, divides by 1 - beta^0 = 0.
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def step(self, name, param, grad, state) -> None:
        if not state:
            state.update(m=np.zeros_like(param), v=np.zeros_like(param), t=0)
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        v *= self.beta2
        v += (1.0 - self.beta2) * (grad * grad)
        # fold both corrections into one Python-float step size (keeps float32)
        step_size = self.lr * (1.0 - self.beta2**t) ** 0.5 / (1.0 - self.beta1**t)
        eps_hat = self.eps * (1.0 - self.beta2**t) ** 0.5
        param -= step_size * m / (np.sqrt(v) + eps_hat)
