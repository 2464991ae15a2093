"""Functional meta-learning in ``torch.func``: MAML, first-order MAML and Reptile.

One episode abstraction for all three: a support set to adapt on, a query set to score
the adapted weights, the inner steps and learning rate. Parameters are plain dicts of
tensors applied with ``functional_call``; tasks of one batch are processed together with
``vmap`` (every task of a batch has the same shapes: :mod:`.episodes` pads them).

- **MAML**: the meta-gradient differentiates the query loss through the inner loop
  (second order).
- **First-order MAML**: the inner gradients are treated as constants, so the
  meta-gradient is the query-loss gradient at the adapted weights.
- **Reptile**: adapt on the task, then move the initialisation towards the adapted weights;
  :func:`reptile_direction` returns ``theta - mean(phi)`` to hand to any optimiser as a
  gradient (with plain SGD at rate ``eps`` that is ``theta += eps * (mean(phi) - theta)``).

Inner learning rates may be learned (Meta-SGD): pass ``lrs``, one rate per parameter
tensor (scalars) or per weight (tensors of the parameters' shapes).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad, vmap

from ..learners.torch.initialisation import ALGORITHMS

Params = dict[str, Tensor]


@dataclass(frozen=True)
class InnerLoop:
    """How a task adapts: ``steps`` of gradient descent at rate ``lr`` on its support."""

    steps: int = 5
    lr: float = 0.1


@dataclass
class Episodes:
    """A batch of tasks with equal shapes (dimension 0 is the task).

    ``support_x``: (T, S, D); ``support_y``: (T, S) class indices (long) or targets
    (float); ``query_x``/``query_y`` likewise with Q rows; ``class_mask``: (T, C) booleans,
    which of the C output units are classes of the task (all ones for regression).
    """

    support_x: Tensor
    support_y: Tensor
    query_x: Tensor
    query_y: Tensor
    class_mask: Tensor

    def __len__(self) -> int:
        return int(self.support_x.shape[0])

    def task(self, i: int) -> Episodes:
        """Task ``i`` alone, as a batch of one."""
        return Episodes(*(t[i:i + 1] for t in (self.support_x, self.support_y, self.query_x,
                                                self.query_y, self.class_mask)))

    def to(self, device: torch.device | str) -> Episodes:
        return Episodes(*(t.to(device) for t in (self.support_x, self.support_y,
                                                 self.query_x, self.query_y,
                                                 self.class_mask)))


def task_loss(model: nn.Module, params: Params, x: Tensor, y: Tensor, mask: Tensor
              ) -> Tensor:
    """Mean loss of ``params`` on one task: cross-entropy over the task's classes only
    (other output units masked out), or squared error when ``y`` is floating point."""
    out = functional_call(model, params, (x,))
    if y.is_floating_point():
        return ((out[:, 0] - y) ** 2).mean()
    logits = out.masked_fill(~mask, torch.finfo(out.dtype).min)
    return nn.functional.cross_entropy(logits, y)


def adapt(model: nn.Module, params: Params, x: Tensor, y: Tensor, mask: Tensor,
          inner: InnerLoop, *, first_order: bool = False, lrs: Params | None = None
          ) -> Params:
    """The task's weights after ``inner.steps`` gradient steps on ``(x, y)``.

    Differentiable with respect to ``params`` (and ``lrs``) unless ``first_order``, where
    each inner gradient is a constant.
    """
    loss_grad = grad(lambda p: task_loss(model, p, x, y, mask))
    for _ in range(inner.steps):
        g = loss_grad(params)
        if first_order:
            g = {k: v.detach() for k, v in g.items()}
        params = {k: params[k] - (lrs[k] if lrs is not None else inner.lr) * g[k]
                  for k in params}
    return params


def query_loss(model: nn.Module, params: Params, episodes: Episodes, inner: InnerLoop, *,
               first_order: bool = False, lrs: Params | None = None) -> Tensor:
    """Mean over the tasks of the query loss after adapting on the support (vmapped)."""

    def one(sx: Tensor, sy: Tensor, qx: Tensor, qy: Tensor, m: Tensor) -> Tensor:
        adapted = adapt(model, params, sx, sy, m, inner, first_order=first_order, lrs=lrs)
        return task_loss(model, adapted, qx, qy, m)

    losses = vmap(one)(episodes.support_x, episodes.support_y, episodes.query_x,
                       episodes.query_y, episodes.class_mask)
    return losses.mean()


def maml_gradient(model: nn.Module, params: Params, episodes: Episodes, inner: InnerLoop,
                  *, first_order: bool = False, lrs: Params | None = None
                  ) -> tuple[Tensor, Params, Params | None]:
    """``(query loss, d loss / d params, d loss / d lrs)`` for MAML (second order) or, with
    ``first_order``, first-order MAML."""
    leaves = {k: v.detach().requires_grad_(True) for k, v in params.items()}
    rates = None if lrs is None else {k: v.detach().requires_grad_(True)
                                      for k, v in lrs.items()}
    loss = query_loss(model, leaves, episodes, inner, first_order=first_order, lrs=rates)
    wrt = list(leaves.values()) + (list(rates.values()) if rates is not None else [])
    grads = torch.autograd.grad(loss, wrt)
    g_params = dict(zip(leaves, grads[:len(leaves)], strict=True))
    g_lrs = None if rates is None else dict(zip(rates, grads[len(leaves):], strict=True))
    return loss.detach(), g_params, g_lrs


def reptile_direction(model: nn.Module, params: Params, episodes: Episodes,
                      inner: InnerLoop) -> tuple[Tensor, Params]:
    """``(query loss after adapting, theta - mean over tasks of phi)``, where ``phi`` are
    the task's weights after the inner loop on its support and query rows together (the
    Reptile update treats the whole task as training data)."""
    theta = {k: v.detach() for k, v in params.items()}

    def one(sx: Tensor, sy: Tensor, qx: Tensor, qy: Tensor, m: Tensor
            ) -> tuple[Params, Tensor]:
        x, y = torch.cat([sx, qx]), torch.cat([sy, qy])
        phi = adapt(model, theta, x, y, m, inner, first_order=True)
        return phi, task_loss(model, phi, qx, qy, m)

    phis, losses = vmap(one)(episodes.support_x, episodes.support_y, episodes.query_x,
                             episodes.query_y, episodes.class_mask)
    return losses.mean().detach(), {k: theta[k] - phis[k].mean(0) for k in theta}


def meta_step(model: nn.Module, params: Params, optimizer: torch.optim.Optimizer,
              episodes: Episodes, inner: InnerLoop, algorithm: str,
              lrs: Params | None = None) -> float:
    """One outer step of ``algorithm`` on a batch of tasks: set the ``.grad`` of the
    tensors in ``params`` (and ``lrs``, for MAML) and step ``optimizer``; returns the
    batch's query loss."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, not {algorithm!r}.")
    if algorithm == "reptile":
        loss, direction = reptile_direction(model, params, episodes, inner)
        grads, lr_grads = direction, None
    else:
        loss, grads, lr_grads = maml_gradient(model, params, episodes, inner,
                                              first_order=algorithm == "fomaml", lrs=lrs)
    optimizer.zero_grad(set_to_none=True)
    for k, tensor in params.items():
        tensor.grad = grads[k].detach()
    if lrs is not None and lr_grads is not None:
        for k, tensor in lrs.items():
            tensor.grad = lr_grads[k].detach()
    optimizer.step()
    return float(loss)
