"""Learners that start from the meta-learned initialisation (:mod:`automl_meta.meta_learning`).

* ``mlp_meta`` (:class:`MetaMLPClassifier`, :class:`MetaMLPRegressor`): the meta-learned
  network fine-tuned on the training rows with plain gradient descent, as in
  meta-training's inner loop. Hyperparameters: the number of steps, the learning rate,
  which layers adapt (``"all"``: full fine-tuning; ``"head"``: only the output layer, on
  frozen meta-learned features) and how the output layer starts (``"meta"``: the
  meta-learned output units, one per class; ``"prototypes"``: generated from the class
  means of the training rows, as ProtoNet does, then fine-tuned). Regression always gets
  a fresh output unit on the meta-learned hidden layers.
* ``protonet`` (:class:`ProtoNetClassifier`): no gradient steps at all. The class means
  ("prototypes") of the training rows in the meta-learned embedding generate the output
  layer (:func:`_prototype_layer`).

Inputs are the search's ``"scaled"`` preprocessing; each learner then applies the
artifact's :class:`~automl_meta.learners.torch.input_map.InputMap`, exactly as
meta-training did. Training is deterministic (no dropout; mini-batches drawn from a
seeded CPU generator), so the CPU and CUDA give the same model up to float rounding.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from torch import nn

from .initialisation import load_cached_initialisation
from .input_map import InputMap
from .mlp import resolve_device

# Full-batch gradient steps up to this many rows; above, seeded mini-batches of this size.
MAX_BATCH = 512
# Meta-SGD's learned inner rates by parameter name (and the recipe's rate under "base")
Rates = dict[str, torch.Tensor] | None


class _MetaBase(BaseEstimator):
    """Shared by the three: load the initialisation, map inputs, place tensors.

    A fitted learner holds ``members_``: one ``(input map, network)`` per view of the
    inputs (:class:`InputMap`'s ``view``); predictions average over them.
    """

    def _device(self) -> torch.device:
        device = resolve_device(self.device)
        if device.type == "cpu":
            torch.set_num_threads(max(1, int(self.n_threads)))
        self.device_ = device.type  # where it was trained; the fitted network lives on CPU
        return device

    def _fit_views(self, X, device: torch.device, views: int,
                   fit_one: Callable[[nn.Module, torch.Tensor, int, Rates], nn.Module]
                   ) -> None:
        """Set ``members_``: for each of ``views`` views of the input map (fitted once),
        ``fit_one(a copy of the initialisation on device, mapped rows, view, learned
        rates)``; the rates are the artifact's Meta-SGD inner learning rates on device
        (with the recipe's ``inner_lr`` under ``"base"``), or None."""
        if int(views) < 1:
            raise ValueError(f"views must be at least 1, not {views!r}.")
        net, recipe, inner_lrs = load_cached_initialisation(self.init)
        rates = None if inner_lrs is None else {
            **{k: v.to(device) for k, v in inner_lrs.items()},
            "base": torch.tensor(float(recipe["inner_lr"]))}
        base = InputMap(width=recipe["width"], seed=recipe["seed"],
                        reduce=recipe["reduce"]).fit(X)
        self.n_features_in_ = np.asarray(X).shape[1]
        self.members_ = []
        for view in range(int(views)):
            mapping = base.with_view(view)
            x = torch.as_tensor(mapping.transform(X), dtype=torch.float32, device=device)
            fitted = fit_one(copy.deepcopy(net).to(device), x, view, rates)
            self.members_.append((mapping, fitted.cpu().eval()))

    @property
    def network_(self) -> nn.Module:
        """The first view's network."""
        return self.members_[0][1]

    def _outputs(self, X) -> list[torch.Tensor]:
        """Each member's raw outputs on ``X``."""
        with torch.no_grad():
            return [net(torch.as_tensor(mapping.transform(X), dtype=torch.float32))
                    for mapping, net in self.members_]


class _MetaClassifier(ClassifierMixin, _MetaBase):
    """Class labels in, probabilities out: shared by ``mlp_meta`` and ``protonet``."""

    def _labels(self, y, sample_weight, device) -> tuple[torch.Tensor, torch.Tensor]:
        """Sets ``classes_``; returns the class indices and the row weights as tensors."""
        self.classes_, y_idx = np.unique(np.asarray(y), return_inverse=True)
        return (torch.as_tensor(y_idx, dtype=torch.long, device=device),
                _weights(sample_weight, len(y_idx), device))

    def predict_proba(self, X):
        probs = [torch.softmax(out.double(), dim=1) for out in self._outputs(X)]
        return torch.stack(probs).mean(0).numpy()

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _encoder(net: nn.Sequential) -> nn.Sequential:
    """Every layer but the output layer."""
    return nn.Sequential(*list(net.children())[:-1])


def _weights(sample_weight, n: int, device: torch.device) -> torch.Tensor:
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    return torch.as_tensor(w / w.mean(), dtype=torch.float32, device=device)


def _prototypes(e: torch.Tensor, y: torch.Tensor, w: torch.Tensor, k: int) -> torch.Tensor:
    """Weighted class means of the embeddings ``e`` (rows of class ``c`` with labels
    ``y == c``), one row per class."""
    onehot = nn.functional.one_hot(y, k).to(e.dtype) * w[:, None]
    return (onehot.T @ e) / onehot.sum(0).clamp_min(1e-12)[:, None]


def _prototype_layer(e: torch.Tensor, y: torch.Tensor, w: torch.Tensor, k: int,
                     distance: str = "euclidean", temperature: float = 1.0) -> nn.Linear:
    """The output layer the class prototypes generate.

    Euclidean: ``-|e - p_c|^2 = 2 p_c.e - |p_c|^2 - |e|^2``, and the last term is the
    same for every class, so unit ``c`` gets weights ``2 p_c`` and bias ``-|p_c|^2``.
    Cosine (``e`` already normalised): weights ``p_c / |p_c|``. The logits are divided by
    ``temperature`` times the training rows' mean distance to their own prototype, so
    that ``temperature=1`` gives probabilities on the data's own scale (raw squared
    distances in a 128-unit embedding would make them near 0 or 1).
    """
    protos = _prototypes(e, y, w, k)
    layer = nn.Linear(e.shape[1], k).to(e.device)
    with torch.no_grad():
        if distance == "cosine":
            unit = nn.functional.normalize(protos, dim=1)
            spread = 1 - (e * unit[y]).sum(1)
            weight, bias = unit, torch.zeros(k, device=e.device)
        else:
            spread = ((e - protos[y]) ** 2).sum(1)
            weight, bias = 2 * protos, -(protos ** 2).sum(1)
        scale = float(temperature) * float((spread * w).sum() / w.sum()) or 1.0
        layer.weight.copy_(weight / max(scale, 1e-6))
        layer.bias.copy_(bias / max(scale, 1e-6))
    return layer


def _head_rates(rates: Rates, net: nn.Sequential, k: int, same_units: bool) -> Rates:
    """Meta-SGD's rates for ``net``, whose output layer now has ``k`` units: the first
    ``k`` meta-learned units' rates when the layer keeps those units (``same_units``),
    else the rates averaged over the units (the units are interchangeable by design:
    labels land on random units in every episode)."""
    if rates is None:
        return None
    out = dict(rates)
    for name, p in list(net.named_parameters())[-2:]:
        learned = rates[name]
        out[name] = learned[:k] if same_units else learned.mean(0, keepdim=True).expand_as(p)
    return out


def _fine_tune(net: nn.Sequential, x: torch.Tensor, target: torch.Tensor, w: torch.Tensor,
               loss_fn, *, steps: int, lr: float, adapt: str, seed: int,
               rates: Rates = None) -> None:
    """``steps`` of SGD on ``(x, target)``: full batch up to :data:`MAX_BATCH` rows, else
    seeded mini-batches; only the output layer when ``adapt == "head"``. With Meta-SGD
    ``rates`` (per weight, keyed by parameter name), each weight steps at its learned
    rate times ``lr / rates["base"]``: at ``lr`` = the recipe's inner rate, exactly the
    rates meta-training learned.

    A fine-tune that diverges (a learning rate too high for the data: a non-finite
    training loss or weights, or a training loss after the last step above the one
    before the first, as a finite blow-up to 1e21 leaves it) keeps the weights of its
    lowest training loss instead; one that does not keeps its last weights, as plain
    SGD. Checking the last step costs one more forward pass.
    """
    head = list(net.children())[-1]
    named = list(net.named_parameters())
    if adapt == "head":
        named = named[-len(list(head.parameters())):]
    params = [p for _, p in named]
    for p in net.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    if rates is None:
        opt = torch.optim.SGD(params, lr=lr)
    else:
        opt = _LearnedRatesSGD(params, [rates[name] * (lr / float(rates["base"]))  # type: ignore[assignment,arg-type]
                                        for name, _ in named])
    n = x.shape[0]
    start = [p.detach().clone() for p in params]

    def descend(n_steps: int, last_loss: bool) -> list[float]:
        """Up to ``n_steps`` steps from the current weights, stopping at a non-finite
        loss; the training loss before each step (and after the last one when
        ``last_loss``: then ``losses[i]`` is the loss after ``i`` steps)."""
        gen = torch.Generator(device="cpu").manual_seed(seed)
        losses: list[float] = []
        for step in range(n_steps + int(last_loss)):
            if n > MAX_BATCH:
                idx = torch.randperm(n, generator=gen)[:MAX_BATCH].to(x.device)
                xb, tb, wb = x[idx], target[idx], w[idx]
            else:
                xb, tb, wb = x, target, w
            if step == n_steps:
                with torch.no_grad():
                    losses.append(float((loss_fn(net(xb), tb) * wb).sum() / wb.sum()))
                break
            loss = (loss_fn(net(xb), tb) * wb).sum() / wb.sum()
            losses.append(float(loss.detach()))
            if not math.isfinite(losses[-1]):
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return losses

    losses = descend(int(steps), last_loss=True)
    if len(losses) > 1 and not (all(map(math.isfinite, losses)) and losses[-1] <= losses[0]
                                and all(bool(torch.isfinite(p).all()) for p in params)):
        # Diverged: take the steps again (plain SGD is deterministic: no state, a seeded
        # batch order) and stop at the one of the lowest loss. Only diverging fits pay.
        with torch.no_grad():
            for p, s0 in zip(params, start, strict=True):
                p.copy_(s0)
        descend(int(np.argmin([v if math.isfinite(v) else np.inf for v in losses])),
                last_loss=False)
    for p in net.parameters():
        p.requires_grad_(False)


class _LearnedRatesSGD:
    """Plain gradient descent with a learning rate per weight (Meta-SGD's inner loop)."""

    def __init__(self, params: list[torch.Tensor], rates: list[torch.Tensor]):
        self.params, self.rates = params, rates

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for p, r in zip(self.params, self.rates, strict=True):
            p.sub_(r * p.grad)  # type: ignore[operator]


class MetaMLPClassifier(_MetaClassifier):
    """The meta-learned network, fine-tuned on the training rows.

    ``init``: an artifact path (default: the shipped initialisation). Classes beyond the
    artifact's output units get prototype-generated units whatever ``head`` says.
    ``views``: how many networks to fine-tune, each on another view of the inputs (view 0
    keeps the columns in order; the others place them at random input slots with random
    signs); their probabilities are averaged. An initialisation meta-trained with
    ``augment`` (the shipped one) was trained to take any view. The default here is the
    single network; the search's default configuration uses 5 (the few-shot benchmark's
    choice), at five times the fitting time.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(-1, 1, (20, 4)), rng.normal(1, 1, (20, 4))]
    >>> y = np.r_[[0] * 20, [1] * 20]
    >>> model = MetaMLPClassifier(steps=10, device="cpu").fit(X, y)
    >>> float((model.predict(X) == y).mean()) > 0.8
    True
    """

    def __init__(self, steps: int = 25, learning_rate: float = 0.1, adapt: str = "all",
                 head: str = "meta", views: int = 1, init: str | None = None,
                 random_state: int = 0, n_threads: int = 1, device: str = "auto"):
        self.steps = steps
        self.learning_rate = learning_rate
        self.adapt = adapt
        self.head = head
        self.views = views
        self.init = init
        self.random_state = random_state
        self.n_threads = n_threads
        self.device = device

    def fit(self, X, y, sample_weight=None):
        if self.adapt not in ("all", "head") or self.head not in ("meta", "prototypes"):
            raise ValueError(f"adapt must be 'all' or 'head' (got {self.adapt!r}), head "
                             f"'meta' or 'prototypes' (got {self.head!r}).")
        device = self._device()
        target, w = self._labels(y, sample_weight, device)
        self._fit_views(X, device, self.views,
                        lambda net, x, view, rates: self._tune(net, x, target, w, view, rates))
        return self

    def _tune(self, net: nn.Module, x: torch.Tensor, target: torch.Tensor, w: torch.Tensor,
              view: int, rates: Rates) -> nn.Module:
        k = len(self.classes_)
        out_layer: nn.Linear = list(net.children())[-1]  # type: ignore[assignment]
        generated = self.head == "prototypes" or k > out_layer.out_features
        if generated:
            with torch.no_grad():
                new = _prototype_layer(_encoder(net)(x), target, w, k)  # type: ignore[arg-type]
        else:  # the first k meta-learned units (meta-training placed classes at random)
            new = nn.Linear(out_layer.in_features, k).to(x.device)
            with torch.no_grad():
                new.weight.copy_(out_layer.weight[:k])
                new.bias.copy_(out_layer.bias[:k])
        net = nn.Sequential(*list(net.children())[:-1], new)
        _fine_tune(net, x, target, w, nn.CrossEntropyLoss(reduction="none"),
                   steps=self.steps, lr=self.learning_rate, adapt=self.adapt,
                   seed=self.random_state + view,
                   rates=_head_rates(rates, net, k, same_units=not generated))
        return net


class MetaMLPRegressor(RegressorMixin, _MetaBase):
    """The meta-learned hidden layers with a fresh output unit (zero weights, so it
    starts at the mean), fine-tuned on the standardised target; ``views`` as for
    :class:`MetaMLPClassifier` (the predictions are averaged)."""

    def __init__(self, steps: int = 25, learning_rate: float = 0.1, adapt: str = "all",
                 views: int = 1, init: str | None = None, random_state: int = 0,
                 n_threads: int = 1, device: str = "auto"):
        self.steps = steps
        self.learning_rate = learning_rate
        self.adapt = adapt
        self.views = views
        self.init = init
        self.random_state = random_state
        self.n_threads = n_threads
        self.device = device

    def fit(self, X, y, sample_weight=None):
        if self.adapt not in ("all", "head"):
            raise ValueError(f"adapt must be 'all' or 'head', not {self.adapt!r}.")
        y = np.asarray(y, dtype=np.float64)
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
        device = self._device()
        target = torch.as_tensor((y - self.y_mean_) / self.y_scale_, dtype=torch.float32,
                                 device=device)
        w = _weights(sample_weight, len(y), device)
        self._fit_views(X, device, self.views,
                        lambda net, x, view, rates: self._tune(net, x, target, w, view, rates))
        return self

    def _tune(self, net: nn.Module, x: torch.Tensor, target: torch.Tensor, w: torch.Tensor,
              view: int, rates: Rates) -> nn.Module:
        out_layer: nn.Linear = list(net.children())[-1]  # type: ignore[assignment]
        new = nn.Linear(out_layer.in_features, 1).to(x.device)
        with torch.no_grad():
            new.weight.zero_()
            new.bias.zero_()
        net = nn.Sequential(*list(net.children())[:-1], new)
        _fine_tune(net, x, target, w, lambda out, t: (out[:, 0] - t) ** 2,
                   steps=self.steps, lr=self.learning_rate, adapt=self.adapt,
                   seed=self.random_state + view,
                   rates=_head_rates(rates, net, 1, same_units=False))
        return net

    def predict(self, X):
        out = torch.stack([o[:, 0] for o in self._outputs(X)]).mean(0)
        return out.numpy().astype(np.float64) * self.y_scale_ + self.y_mean_


class ProtoNetClassifier(_MetaClassifier):
    """A prototypical network on the meta-learned encoder; the class prototypes generate
    the output layer (no gradient steps).

    ``temperature`` divides the logits (relative to the training rows' own spread around
    their prototypes): it shapes the probabilities (log loss, calibration) and leaves the
    predicted class unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(-1, 1, (20, 4)), rng.normal(1, 1, (20, 4))]
    >>> y = np.r_[["a"] * 20, ["b"] * 20]
    >>> model = ProtoNetClassifier(device="cpu").fit(X, y)
    >>> model.network_[-1].weight.shape  # one generated output unit per class
    torch.Size([2, 128])
    >>> float((model.predict(X) == y).mean()) > 0.8
    True
    """

    def __init__(self, distance: str = "euclidean", temperature: float = 1.0,
                 init: str | None = None, random_state: int = 0, n_threads: int = 1,
                 device: str = "auto"):
        self.distance = distance
        self.temperature = temperature
        self.init = init
        self.random_state = random_state
        self.n_threads = n_threads
        self.device = device

    def fit(self, X, y, sample_weight=None):
        if self.distance not in ("euclidean", "cosine"):
            raise ValueError(f"distance must be 'euclidean' or 'cosine', not "
                             f"{self.distance!r}.")
        device = self._device()
        target, w = self._labels(y, sample_weight, device)
        self._fit_views(X, device, 1,
                        lambda net, x, _view, _rates: self._generate(net, x, target, w))
        return self

    def _generate(self, net: nn.Module, x: torch.Tensor, target: torch.Tensor,
                  w: torch.Tensor) -> nn.Module:
        encoder = _encoder(net)  # type: ignore[arg-type]
        with torch.no_grad():
            e = encoder(x)
            if self.distance == "cosine":
                e = nn.functional.normalize(e, dim=1)
        out = _prototype_layer(e, target, w, len(self.classes_), self.distance,
                               self.temperature)
        layers = [encoder, _Normalise(), out] if self.distance == "cosine" else [encoder, out]
        return nn.Sequential(*layers)


class _Normalise(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(x, dim=1)

