"""``search_space/``: one conditional space over the families, sampled define-by-run; the
default configurations lie inside it; the stored description is Optuna's JSON."""

from __future__ import annotations

import json

import optuna
import pytest
from optuna.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    json_to_distribution,
)

from automl_meta.learners import DEFAULT_LEARNERS, LEARNERS
from automl_meta.search_space import (
    LEARNER_PARAM,
    config_learner,
    default_configs,
    learner_params,
    learner_space,
    sample_config,
    search_space_description,
)

TASKS = ("classification", "regression")


def _families(task: str) -> list[str]:
    return [n for n in DEFAULT_LEARNERS if task in LEARNERS[n].tasks]


def _inside(value, dist) -> bool:
    if isinstance(dist, CategoricalDistribution):
        return value in dist.choices
    if isinstance(dist, (IntDistribution, FloatDistribution)):
        return dist.low <= value <= dist.high
    raise TypeError(dist)


@pytest.mark.parametrize("task", TASKS)
def test_every_default_configuration_lies_inside_its_family_s_space(task):
    families = _families(task)
    configs = default_configs(families, task)
    assert configs, task
    ranks = [LEARNERS[config_learner(c)].default_rank for c in configs]
    assert ranks == sorted(ranks)  # cheapest and most reliable first
    for config in configs:
        space = learner_space(config_learner(config), task)
        params = learner_params(config)
        assert set(params) <= set(space), config
        for name, value in params.items():
            assert _inside(value, space[name]), (config, name)


@pytest.mark.parametrize("task", TASKS)
def test_a_sampled_configuration_names_one_family_and_only_its_parameters(task):
    families = _families(task)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(40):
        trial = study.ask()
        config = sample_config(trial, families, task)
        learner = config[LEARNER_PARAM]
        seen.add(learner)
        assert config == trial.params
        space = learner_space(learner, task)
        assert set(learner_params(config)) == set(space)
        assert all(k == LEARNER_PARAM or k.startswith(f"{learner}.") for k in config)
        for name, value in learner_params(config).items():
            assert _inside(value, space[name])
        study.tell(trial, 0.0)
    assert len(seen) >= 3


def test_a_fixed_trial_reproduces_a_default_configuration():
    config = default_configs(["knn"], "classification")[0]
    assert sample_config(optuna.trial.FixedTrial(config), ["knn"], "classification") == config


def test_the_description_is_optuna_s_distribution_json_of_each_parameter():
    description = json.loads(search_space_description(["linear", "knn"], "regression"))
    assert json_to_distribution(description[LEARNER_PARAM]) == CategoricalDistribution(
        ["linear", "knn"])
    for learner in ("linear", "knn"):
        for name, dist in learner_space(learner, "regression").items():
            assert json_to_distribution(description[f"{learner}.{name}"]) == dist
    assert len(description) == 1 + sum(len(learner_space(lr, "regression"))
                                       for lr in ("linear", "knn"))
