"""A plain multi-layer perceptron in torch, behind the scikit-learn estimator contract.

Weights start from torch's default random initialisation: this is the control for the
meta-learned initialisations. The module imports torch; the learner registry imports it
only when an MLP trial runs.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from torch import nn


def resolve_device(device: str) -> torch.device:
    """``"auto"`` picks CUDA when available, else the CPU; asking for CUDA where there is
    none is an error that says so (the trial fails with it, the search goes on)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device={device!r}, but this process sees no CUDA device "
                           "(torch.cuda.is_available() is False); use device='auto' or "
                           "'cpu'.")
    return resolved


def warm_up_torch() -> None:
    """Pay torch's one-off costs now rather than in the first trial: the first optimiser
    a process builds imports ``torch._dynamo`` (about 0.9 s on the 2-core development
    machine). Touches no GPU."""
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


def _network(n_in: int, n_out: int, hidden: int, layers: int, dropout: float) -> nn.Module:
    mods: list[nn.Module] = []
    width = n_in
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden
    mods.append(nn.Linear(width, n_out))
    return nn.Sequential(*mods)


class _TorchMLPBase(BaseEstimator):
    def __init__(
        self,
        hidden_size: int = 128,
        n_layers: int = 2,
        dropout: float = 0.1,
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-5,
        epochs: int = 50,
        batch_size: int = 64,
        random_state: int = 0,
        n_threads: int = 1,
        device: str = "auto",
    ):
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_state = random_state
        self.n_threads = n_threads
        self.device = device

    def _train(self, X: np.ndarray, target: torch.Tensor, n_out: int, loss_fn, sample_weight):
        device = resolve_device(self.device)
        if device.type == "cpu":
            torch.set_num_threads(max(1, int(self.n_threads)))
        X_t = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)
        target = target.to(device)
        w = None
        if sample_weight is not None:
            w = torch.as_tensor(np.asarray(sample_weight, dtype=np.float32), device=device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            net = _network(X_t.shape[1], n_out, self.hidden_size, self.n_layers,
                           self.dropout).to(device)
            opt = torch.optim.AdamW(net.parameters(), lr=self.learning_rate,
                                    weight_decay=self.weight_decay)
            gen = torch.Generator(device="cpu").manual_seed(self.random_state)
            n = X_t.shape[0]
            batch = max(1, min(int(self.batch_size), n))
            net.train()
            for _ in range(int(self.epochs)):
                order = torch.randperm(n, generator=gen).to(device)
                for start in range(0, n, batch):
                    idx = order[start:start + batch]
                    if idx.numel() < 2 and n >= 2:
                        continue  # a batch of one row breaks nothing but adds only noise
                    losses = loss_fn(net(X_t[idx]), target[idx])
                    loss = (losses * w[idx]).sum() / w[idx].sum().clamp_min(1e-12) \
                        if w is not None else losses.mean()
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
        net.eval()
        self.device_ = device.type  # where it was trained; the fitted network lives on CPU
        self.network_ = net.cpu()
        self.n_features_in_ = X_t.shape[1]

    def _forward(self, X) -> torch.Tensor:
        with torch.no_grad():
            return self.network_(torch.as_tensor(np.asarray(X, dtype=np.float32)))


class TorchMLPClassifier(ClassifierMixin, _TorchMLPBase):
    """MLP classifier trained with AdamW on cross-entropy.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.r_[np.zeros((8, 2)), np.ones((8, 2))]; y = np.r_[[0] * 8, [1] * 8]
    >>> TorchMLPClassifier(epochs=30).fit(X, y).predict(X[:1])
    array([0])
    """

    def fit(self, X, y, sample_weight=None):
        y = np.asarray(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        target = torch.as_tensor(y_idx, dtype=torch.long)
        loss = nn.CrossEntropyLoss(reduction="none")
        self._train(X, target, len(self.classes_), loss, sample_weight)
        return self

    def predict_proba(self, X):
        return torch.softmax(self._forward(X).double(), dim=1).numpy()

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class TorchMLPRegressor(RegressorMixin, _TorchMLPBase):
    """MLP regressor trained with AdamW on the squared error of the standardised target."""

    def fit(self, X, y, sample_weight=None):
        y = np.asarray(y, dtype=np.float64)
        self.y_mean_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
        target = torch.as_tensor((y - self.y_mean_) / self.y_scale_, dtype=torch.float32)

        def loss(out, t):
            return (out[:, 0] - t) ** 2

        self._train(X, target, 1, loss, sample_weight)
        return self

    def predict(self, X):
        return self._forward(X)[:, 0].numpy().astype(np.float64) * self.y_scale_ + self.y_mean_
