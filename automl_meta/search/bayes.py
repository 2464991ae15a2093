"""Bayesian optimisation over the conditional space: a BoTorch Gaussian process with an
optional learned prior mean, as an Optuna sampler.

Optuna's ``GPSampler`` and optuna-integration's ``BoTorchSampler`` model only the
parameters every trial shares; in our space that is the ``learner`` choice alone, and every
hyperparameter would be sampled at random. Here a configuration is encoded whole
(:class:`~automl_meta.warm_start.encoding.ConfigEncoder`: learner one-hot plus every
family's parameters, inactive ones imputed at the middle of their range), one GP
(BoTorch ``SingleTaskGP``) models the scores, and expected improvement picks among
candidates: random configurations of every family plus perturbations of the best ones.

Transfer: with a ``prior`` (the warm-start surrogate's predicted score for this dataset),
the GP models the residual ``y - b * prior(x)``, with ``b`` fitted by shrunk least squares,
so the surrogate's knowledge guides the search where the trials so far say little.

Cost: with a ``cost`` (the warm start's cost model: predicted fit seconds) and the time
left, a candidate predicted to take more than ``COST_SHARE`` of the time left has its
expected improvement divided by how many times over that share it is (expected
improvement per second, beyond a fair share), so the search does not spend the end of a
budget on one slow model.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.trial import FrozenTrial, TrialState

from .._types import Task
from ..attributes import FAILURE_REASON
from ..warm_start.encoding import ConfigEncoder
from ..warm_start.model import times_over_share

logger = logging.getLogger(__name__)

__all__ = ["BayesSampler", "BayesianProposer"]

Prior = Callable[[Sequence[dict[str, Any]]], np.ndarray]
# A candidate's fair share of the time left: above it, expected improvement per second.
COST_SHARE = 0.1


class BayesianProposer:
    """Propose the next configuration from the scores seen so far.

    Parameters
    ----------
    learners, task
        The search space.
    prior : callable, optional
        ``configs -> predicted scores`` (higher is better), the GP's prior mean.
    n_startup : int
        Without a prior, the first ``n_startup`` proposals are random.
    n_random, n_local : int
        Candidates per proposal: random ones, and perturbations of each of the top 5.
    seed : int
        Seeds the candidates (with the proposal number).
    refit_every : int
        The GP's hyperparameters are fitted anew once this many scores have arrived since
        the last fit (and always below 10 scores); in between the last ones are reused.
    cost : callable, optional
        ``configs -> predicted fit seconds`` (NaN: unknown); with ``time_left`` given to
        :meth:`propose`, expected improvement is discounted beyond ``COST_SHARE`` of it.
    """

    def __init__(self, learners: Sequence[str], task: Task, prior: Prior | None = None,
                 n_startup: int = 5, n_random: int = 512, n_local: int = 32, seed: int = 0,
                 refit_every: int = 5, cost: Prior | None = None):
        self.encoder = ConfigEncoder(learners, task)
        self.prior = prior
        self.cost = cost
        self.n_startup = n_startup
        self.n_random = n_random
        self.n_local = n_local
        self.seed = seed
        self.refit_every = refit_every
        self._state: dict[str, Any] | None = None  # GP hyperparameters of the last fit
        self._fitted_at = -1

    def propose(self, configs: Sequence[dict[str, Any]], values: Sequence[float],
                step: int, candidates: Sequence[dict[str, Any]] | None = None,
                time_left: float | None = None) -> dict[str, Any]:
        """The next configuration. ``values`` are higher-is-better, ``NaN`` for a failed
        trial; ``candidates`` restricts the choice (a lookup benchmark's pool);
        ``time_left`` (seconds) makes the choice cost-aware when there is a ``cost``."""
        rng = np.random.default_rng([self.seed, step])
        y = np.asarray(values, dtype=float)
        ok = np.isfinite(y)
        if candidates is None:
            candidates = self._candidates(configs, y, rng)
        if not len(candidates):
            raise ValueError("No candidate configuration to choose from.")
        if ok.sum() < (2 if self.prior is not None else self.n_startup) or \
                np.ptp(y[ok]) == 0 and self.prior is None:
            if self.prior is not None:
                return dict(candidates[int(np.argmax(self.prior(candidates)))])
            return dict(candidates[int(rng.integers(len(candidates)))])
        value = self.acquisition(configs, y, candidates)
        if self.cost is not None and time_left is not None:
            value = value / cost_factor(self.cost(candidates), time_left)
        return dict(candidates[int(np.argmax(value))])

    def acquisition(self, configs: Sequence[dict[str, Any]], y: np.ndarray,
                    candidates: Sequence[dict[str, Any]]) -> np.ndarray:
        """Expected improvement of each candidate over the best score so far."""
        import torch
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from gpytorch.mlls import ExactMarginalLogLikelihood
        from scipy.stats import norm, rankdata

        ok = np.isfinite(y)
        # Failed trials count as the worst score seen; scores become normal quantiles of
        # their ranks (robust to log-loss tails and to the metric's scale).
        filled = np.where(ok, y, np.nanmin(y[ok]))
        target = norm.ppf((rankdata(filled) - 0.5) / len(filled))  # ties share a rank
        X_obs, X_cand = self._inputs(configs), self._inputs(candidates)
        prior_obs = np.zeros(len(configs))
        prior_cand = np.zeros(len(candidates))
        if self.prior is not None:
            p_obs, p_cand = self.prior(configs), self.prior(candidates)
            both = np.concatenate([p_obs, p_cand])
            mu, sd = both.mean(), both.std() or 1.0
            p_obs, p_cand = (p_obs - mu) / sd, (p_cand - mu) / sd
            # Shrunk least squares of the scores on the prior (towards b = 1).
            b = float(np.clip((p_obs @ target + 2.0) / (p_obs @ p_obs + 2.0), 0.0, 2.0))
            prior_obs, prior_cand = b * p_obs, b * p_cand
        residual = target - prior_obs
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            train_X = torch.tensor(X_obs, dtype=torch.float64)
            train_Y = torch.tensor(residual[:, None], dtype=torch.float64)
            # Scores are already standardised (normal quantiles): no outcome transform, so
            # the state dict holds only hyperparameters and can be reused as data grows.
            gp = SingleTaskGP(train_X, train_Y, outcome_transform=None)
            n = len(residual)
            if self._state is not None:
                gp.load_state_dict(self._state)  # the last fit: reused, or a warm start
            if self._state is None or n < 10 or n - self._fitted_at >= self.refit_every:
                try:
                    fit_gpytorch_mll(ExactMarginalLogLikelihood(gp.likelihood, gp),
                                     optimizer_kwargs={"options": {"maxiter": 100}})
                except Exception as exc:  # the GP keeps its prior hyperparameters
                    logger.info("GP hyperparameter fit failed (%s); using the defaults.", exc)
                self._state = {k: v.clone() for k, v in gp.state_dict().items()}
                self._fitted_at = n
            gp.eval()
            with torch.no_grad():
                post = gp.posterior(torch.tensor(X_cand, dtype=torch.float64))
                mean = post.mean.squeeze(-1).numpy() + prior_cand
                sigma = post.variance.clamp_min(1e-12).sqrt().squeeze(-1).numpy()
        improvement = mean - target.max()
        z = improvement / sigma
        return improvement * norm.cdf(z) + sigma * norm.pdf(z)

    def _inputs(self, configs: Sequence[dict[str, Any]]) -> np.ndarray:
        return np.nan_to_num(self.encoder.encode(configs), nan=0.5)

    def _candidates(self, configs: Sequence[dict[str, Any]], y: np.ndarray,
                    rng: np.random.Generator) -> list[dict[str, Any]]:
        out = self.encoder.random_configs(self.n_random, rng)
        if np.isfinite(y).any():
            top = np.argsort(-np.nan_to_num(y, nan=-np.inf), kind="stable")[:5]
            for i in top:
                if self.encoder.supports(configs[i]):
                    for scale in (0.05, 0.15):
                        out.extend(self.encoder.perturb(configs[i], rng, scale)
                                   for _ in range(self.n_local // 2))
        return out


def cost_factor(seconds: np.ndarray, time_left: float) -> np.ndarray:
    """How many times each predicted fit time is over its fair share of the time left
    (``COST_SHARE``); 1 within it, without a prediction, or with no time left to share.

    >>> cost_factor(np.array([0.5, 4.0, np.nan]), 20.0).tolist()
    [1.0, 2.0, 1.0]
    """
    return times_over_share(seconds, COST_SHARE * time_left)


class BayesSampler(BaseSampler):
    """An Optuna sampler around :class:`BayesianProposer` for ``sample_config``'s space.

    The whole configuration is proposed when a trial starts (``before_trial``) and handed
    out parameter by parameter; enqueued trials (the warm start) are left alone. If the
    model fails, the trial falls back to random sampling and the failure is logged.
    """

    def __init__(self, learners: Sequence[str], task: Task, prior: Prior | None = None,
                 seed: int = 0, n_startup: int = 5, cost: Prior | None = None,
                 time_left: Callable[[], float | None] | None = None):
        self.proposer = BayesianProposer(learners, task, prior=prior, n_startup=n_startup,
                                         seed=seed, cost=cost)
        self.time_left = time_left
        self._fallback = RandomSampler(seed=seed)
        self._proposals: dict[int, dict[str, Any]] = {}

    def reseed_rng(self) -> None:
        self._fallback.reseed_rng()

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial
                                    ) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return {}

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if "fixed_params" in trial.system_attrs:
            return
        configs, values = [], []
        sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,
                                                          TrialState.FAIL)):
            if "learner" not in t.params:
                continue
            if t.state == TrialState.FAIL and t.user_attrs.get(FAILURE_REASON) in (
                    None, "interrupted", "budget"):
                continue  # says nothing about the configuration
            configs.append(t.params)
            values.append(sign * t.value if t.value is not None else np.nan)
        try:
            left = self.time_left() if self.time_left is not None else None
            self._proposals[trial.number] = self.proposer.propose(configs, values,
                                                                  trial.number, time_left=left)
        except Exception as exc:
            logger.warning("Bayesian optimisation could not propose trial %d (%s: %s); "
                           "sampling it at random.", trial.number, type(exc).__name__, exc)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        config = self._proposals.get(trial.number, {})
        if param_name in config:
            value = config[param_name]
            if param_distribution._contains(param_distribution.to_internal_repr(value)):
                return value
        return self._fallback.sample_independent(study, trial, param_name,
                                                 param_distribution)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self._proposals.pop(trial.number, None)
