"""The learned warm start: encoding, proposal model, artifact, Bayesian continuation, fit."""

from __future__ import annotations

import gzip
import json

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.storages import InMemoryStorage

from automl_meta.data import prepare_dataset
from automl_meta.exceptions import AutoMLError
from automl_meta.knowledge import KnowledgeBase
from automl_meta.meta_features import feature_names
from automl_meta.search.bayes import BayesianProposer, BayesSampler
from automl_meta.search_space import sample_config
from automl_meta.search_space.space import learner_space
from automl_meta.warm_start import (
    ConfigEncoder,
    build_proposal_model,
    load_or_build,
    load_proposal_model,
    save_proposal_model,
)
from automl_meta.warm_start.start import warm_start_for
from automl_meta.warm_start.suggest import (
    first_trials,
    nearest_past_datasets,
    surrogate_functions,
)

LEARNERS = ["linear", "knn", "random_forest"]
LINEAR = {"learner": "linear", "linear.C": 1.0}
FOREST = {"learner": "random_forest", "random_forest.n_estimators": 100,
          "random_forest.max_features": 0.5, "random_forest.min_samples_leaf": 1}
KNN = {"learner": "knn", "knn.n_neighbors": 5, "knn.weights": "uniform", "knn.p": 2}


def _distributions(config: dict, task: str = "classification") -> dict:
    dists = {"learner": optuna.distributions.CategoricalDistribution(LEARNERS)}
    learner = config["learner"]
    dists.update({f"{learner}.{k}": d for k, d in learner_space(learner, task).items()})
    return dists


def add_dataset(storage, name: str, family: str, size: float, rng: np.random.Generator,
                extra_configs: int = 6) -> None:
    """A fake past dataset: on big data (``size`` > 0) the forest wins, on small data the
    linear model; k-NN is always middling. Random extra configurations score lower. Fit
    times (1,000 rows, 3-fold CV): a forest takes 2 ms per 100 trees per training row, the
    linear model and k-NN 0.01 and 0.005 s in all."""
    meta = {n: 0.0 for n in feature_names()}  # one informative meta-feature
    meta["log_n_rows"] = size
    study = optuna.create_study(storage=storage, study_name=name, direction="maximize")
    study.set_user_attr("n_rows", 1000)
    study.set_user_attr("cv_folds", 3)
    study.set_user_attr("fingerprint", f"fp-{name}")
    study.set_user_attr("dataset", name)
    study.set_user_attr("family", family)
    study.set_user_attr("task", "classification")
    study.set_user_attr("metric", "accuracy")
    study.set_user_attr("meta_features", meta)
    big = size > 0
    scores = [(FOREST, 0.95 if big else 0.70), (LINEAR, 0.70 if big else 0.95), (KNN, 0.80)]
    enc = ConfigEncoder(LEARNERS, "classification")
    for config in enc.random_configs(extra_configs, rng):
        scores.append((config, 0.5 + 0.1 * rng.random()))
    for config, value in scores:
        seconds = {"linear": 0.01, "knn": 0.005}.get(
            config["learner"], 2000 * 2e-3 * config.get("random_forest.n_estimators", 100)
            / 100)
        study.add_trial(optuna.trial.create_trial(
            params=config, distributions=_distributions(config), value=value,
            user_attrs={"fit_time": seconds}))


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    storage = InMemoryStorage()
    rng = np.random.default_rng(0)
    for i in range(12):
        add_dataset(storage, f"big{i}", f"big{i}", 2.0 + 0.1 * i, rng)
        add_dataset(storage, f"small{i}", f"small{i // 2}", -2.0 - 0.1 * i, rng)
    return KnowledgeBase(storage)


@pytest.fixture(scope="module")
def model(kb):
    return build_proposal_model(kb, learners=LEARNERS)


def query(size: float) -> dict[str, float]:
    meta = {n: 0.0 for n in feature_names()}
    meta["log_n_rows"] = size
    return meta


# ------------------------------------------------------------------ encoding
def test_encoder_round_trips_configurations():
    enc = ConfigEncoder(["knn", "svm", "mlp", "lightgbm"], "regression")
    rng = np.random.default_rng(1)
    for config in enc.random_configs(40, rng):
        assert enc.supports(config)
        learner = config["learner"]
        again = enc.decode(learner, enc.encode([config])[0])
        for key, value in config.items():
            if isinstance(value, float):
                assert again[key] == pytest.approx(value, rel=1e-9)
            else:
                assert again[key] == value


def test_encoder_marks_other_families_missing_and_rejects_foreign_configs():
    enc = ConfigEncoder(["knn", "linear"], "classification")
    row = enc.encode([LINEAR])[0]
    assert row[:2].tolist() == [0.0, 1.0]
    assert np.isnan(row[enc.learner_columns("knn")]).all()
    assert not enc.supports(FOREST)  # learner not searched
    assert not enc.supports({"learner": "linear", "linear.C": 1e9})  # out of range


# ------------------------------------------------------------------ proposal model
def test_knn_proposes_the_nearest_datasets_bests(model):
    big = model.suggest(query(2.5), "classification", k=3, strategy="knn")
    small = model.suggest(query(-2.5), "classification", k=3, strategy="knn")
    assert big[0].config == FOREST and big[0].origin.startswith("knn:big")
    assert small[0].config == LINEAR and small[0].origin.startswith("knn:small")


def test_surrogate_learns_which_configuration_suits_which_dataset(model):
    tm = model.tasks["classification"]
    for size, winner, loser in ((2.5, FOREST, LINEAR), (-2.5, LINEAR, FOREST)):
        pred = tm.predict(tm.scale_meta(query(size)), [winner, loser])
        assert pred[0] > pred[1] + 0.1


def test_full_strategy_starts_with_the_predicted_best_and_spreads_families(model):
    proposals = model.suggest(query(2.5), "classification", k=8)
    assert proposals[0].config["learner"] == "random_forest"
    families = [p.config["learner"] for p in proposals]
    assert set(families) == set(LEARNERS)
    assert max(families.count(f) for f in LEARNERS) <= 4
    assert {p.source for p in proposals} <= {"portfolio", "knn", "surrogate"}


def test_the_first_wave_holds_no_two_proposals_the_knowledge_cannot_tell_apart():
    """Two linear models at C = 994 and 937 scored 0.856617 and 0.856618 (100,000 rows):
    a near-duplicate (in every hyperparameter, or in predicted rank and time) is not
    proposed while other candidates are left."""
    from automl_meta.warm_start.model import Proposal, _diverse

    enc = ConfigEncoder(LEARNERS, "classification")
    configs = [{"learner": "linear", "linear.C": 994.0}, {"learner": "linear", "linear.C": 937.0},
               {"learner": "linear", "linear.C": 0.2}, {"learner": "linear", "linear.C": 0.6},
               {"learner": "linear", "linear.C": 0.001}, FOREST]
    pool = [Proposal(c, "surrogate") for c in configs]
    predicted = np.array([0.90, 0.89, 0.80, 0.8004, 0.70, 0.60])
    seconds = np.array([1.0, 1.0, 1.0, 1.02, 1.0, 5.0])
    chosen = _diverse(pool, list(range(6)), 4, enc.encode(configs), predicted, seconds)
    # one per family first (k // 4), then by prediction: 937 is 994's neighbour, 0.6 is
    # 0.2's twin in prediction and time, both skipped
    assert [p.config for p in chosen] == [configs[0], FOREST, configs[2], configs[4]]
    # the same predictions but times apart (a costlier twin) are not alike
    seconds[3] = 2.0
    chosen = _diverse(pool, list(range(6)), 4, enc.encode(configs), predicted, seconds)
    assert [p.config for p in chosen] == [configs[0], FOREST, configs[2], configs[3]]


def test_greedy_portfolio_covers_both_kinds_of_dataset(model):
    first_two = model.tasks["classification"].portfolio[:2]
    assert {c["learner"] for c in first_two} == {"linear", "random_forest"}


def test_suggest_respects_the_searched_learners(model):
    proposals = model.suggest(query(2.5), "classification", k=5, learners=["knn"])
    assert proposals and all(p.config["learner"] == "knn" for p in proposals)
    assert model.suggest(query(2.5), "regression", k=5) == []  # no regression knowledge
    with pytest.raises(ValueError, match="strategy"):
        model.suggest(query(2.5), "classification", strategy="magic")


def test_leave_family_out_removes_every_variant(kb):
    held_out = build_proposal_model(kb.exclude(families=["small0"]), learners=LEARNERS)
    names = {d["dataset"] for d in held_out.tasks["classification"].datasets}
    assert "small0" not in names and "small1" not in names  # one family, two variants
    assert "small2" in names and len(names) == 22


def test_cost_model_predicts_fit_time_for_any_size_and_fold_count(model):
    tm = model.tasks["classification"]
    q = tm.scale_meta(query(2.5))
    big_forest = {**FOREST, "random_forest.n_estimators": 400}
    seconds = tm.predict_seconds(q, [FOREST, big_forest, LINEAR], n_rows=1000, cv_folds=3)
    assert seconds[0] == pytest.approx(4.0, rel=0.3)  # as stored: 2 ms/row, 2,000 rows
    assert seconds[1] > 2.5 * seconds[0] and seconds[2] < 0.05
    # per training row: 5,000 rows in 5 folds train on 10x the rows of 1,000 in 3
    tenfold = tm.predict_seconds(q, [FOREST], n_rows=5000, cv_folds=5)[0]
    assert tenfold == pytest.approx(10 * seconds[0])
    assert np.isnan(tm.predict_seconds(q, [{"learner": "svm"}], 1000, 3)).all()


def test_the_cost_of_knn_includes_its_predictions_which_grow_with_rows_squared(model):
    """The knowledge base records fit times; k-NN's fit is nearly free and its
    predictions are the trial (100,000 x 50, 3-fold: 0.02 s fitting, 51 s in all)."""
    from automl_meta.learners.builtin import KNN_SECONDS_PER_TERM

    tm = model.tasks["classification"]
    q = tm.scale_meta(query(2.5))
    fit_only = tm.predict_seconds(q, [KNN, LINEAR], n_rows=1000, cv_folds=3)
    small, big = (tm.predict_seconds(q, [KNN, LINEAR], n_rows=n, cv_folds=3, n_features=50)
                  for n in (1000, 100_000))
    assert small[1] == fit_only[1] and big[1] == pytest.approx(100 * small[1])  # per row
    def predicting(n, width):  # 3 folds, each its test third against its training rows
        return 3 * KNN_SECONDS_PER_TERM * (2 / 3 * n) * (n / 3) * width

    fitting = fit_only[0] - predicting(1000, 1)  # (no width given: one column)
    assert big[0] == pytest.approx(100 * fitting + predicting(100_000, 50))
    assert big[0] > 40 and small[0] < 0.1  # quadratic in rows: negligible on small tables


def test_a_short_time_budget_makes_the_proposals_cheaper(model):
    meta = {**query(2.5), "n_rows": 1000.0}
    free = model.suggest(meta, "classification", k=6)
    short = model.suggest(meta, "classification", k=6, time_budget=0.2)
    assert free[0].config["learner"] == "random_forest"  # the best predicted on big data
    assert short[0].config["learner"] != "random_forest"
    assert all(np.isfinite(p.seconds) for p in free + short)
    assert sum(p.seconds for p in short) < 0.5 * sum(p.seconds for p in free)
    # a generous budget changes nothing
    roomy = model.suggest(meta, "classification", k=6, time_budget=1e6)
    assert [p.config for p in roomy] == [p.config for p in free]


def test_one_warm_start_per_fit_gives_what_its_parts_give_apart(model):
    """``warm_start_for`` scales the query and finds the neighbours once; the nearest
    datasets, the first wave and the surrogate's functions are what each part computes
    on its own."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 3)), columns=list("abc"))
    dataset = prepare_dataset(X, (X["a"] > 0).astype(int), "classification", cv=4)
    meta = {**query(2.3), "n_rows": 2000.0}
    warm = warm_start_for(dataset, meta, warm_start=True, knowledge=model, storage=None)
    task_model = model.tasks["classification"]
    assert warm.enabled and warm.task_model is task_model
    assert np.array_equal(warm.query, task_model.scale_meta(meta))
    assert warm.nearest == nearest_past_datasets(meta, dataset.fingerprint,
                                                 "classification", task_model)
    for budget in (None, 5.0):
        assert warm.first_trials(dataset, meta, LEARNERS, seed=3, time_budget=budget) == \
            first_trials(model, meta, "classification", LEARNERS, seed=3,
                         fingerprint=dataset.fingerprint, time_budget=budget, cv_folds=4)
    configs = [p.config for p in model.suggest(meta, "classification", k=4)]
    prior, cost = surrogate_functions(task_model, meta, 4)
    np.testing.assert_array_equal(warm.prior(configs), prior(configs))
    np.testing.assert_array_equal(warm.cost(configs), cost(configs))
    cold = warm_start_for(dataset, meta, warm_start=False, knowledge=model, storage=None)
    assert not cold.enabled and cold.prior is None and cold.description() == {
        "enabled": False}


# ------------------------------------------------------------------ artifact
def test_artifact_round_trip_gives_the_same_proposals(model, tmp_path):
    path = save_proposal_model(model, tmp_path / "ws.json.gz")
    loaded = load_proposal_model(path)
    assert loaded.knowledge_digest == model.knowledge_digest
    for size in (2.5, -2.5):
        a = model.suggest(query(size), "classification", k=6)
        b = loaded.suggest(query(size), "classification", k=6)
        assert [p.config for p in a] == [p.config for p in b]
        assert [p.predicted for p in a] == pytest.approx([p.predicted for p in b])
    meta = {**query(2.5), "n_rows": 1000.0}
    a, b = (m.suggest(meta, "classification", k=6, time_budget=1.0) for m in (model, loaded))
    assert [p.seconds for p in a] == pytest.approx([p.seconds for p in b])


def test_artifact_with_another_version_is_refused(model, tmp_path):
    path = save_proposal_model(model, tmp_path / "ws.json.gz")
    doc = json.loads(gzip.open(path).read())
    doc["version"] = 999
    with gzip.open(path, "wb") as fh:
        fh.write(json.dumps(doc).encode())
    with pytest.raises(AutoMLError, match="version 999"):
        load_proposal_model(path)
    (tmp_path / "junk.json.gz").write_bytes(b"not gzip")
    with pytest.raises(AutoMLError, match="not a readable"):
        load_proposal_model(tmp_path / "junk.json.gz")


def test_model_is_rebuilt_when_the_knowledge_base_grows(tmp_path):
    url = f"sqlite:///{tmp_path / 'knowledge.db'}"
    storage = optuna.storages.RDBStorage(url)
    rng = np.random.default_rng(3)
    for i in range(4):
        add_dataset(storage, f"d{i}", f"d{i}", (-1) ** i * 2.0, rng)
    path = tmp_path / "warm_start.json.gz"
    first = load_or_build(KnowledgeBase(url), path)
    assert path.exists() and len(first.tasks["classification"].datasets) == 4
    same = load_or_build(KnowledgeBase(url), path)
    assert same.built_at == first.built_at  # current: read, not rebuilt
    add_dataset(storage, "d4", "d4", 2.0, rng)
    grown = load_or_build(KnowledgeBase(url), path)
    assert len(grown.tasks["classification"].datasets) == 5
    assert load_proposal_model(path).knowledge_digest == grown.knowledge_digest


# ------------------------------------------------------------------ Bayesian continuation
def test_gp_proposer_moves_towards_the_better_region():
    proposer = BayesianProposer(["linear"], "classification", seed=0)
    cs = [0.001, 0.01, 0.1, 1.0, 10.0, 100.0]
    configs = [{"learner": "linear", "linear.C": c} for c in cs]
    values = [-abs(np.log10(c) - 1.0) for c in cs]  # best at C = 10
    proposal = proposer.propose(configs, values, step=6)
    assert 1.0 < proposal["linear.C"] < 100.0
    again = BayesianProposer(["linear"], "classification", seed=0).propose(
        configs, values, step=6)
    assert again == proposal  # seeded


def test_prior_decides_before_any_score_and_failed_trials_count_as_worst():
    def prior(configs):
        return np.array([1.0 if c["learner"] == "knn" else 0.0 for c in configs])

    proposer = BayesianProposer(["linear", "knn"], "classification", prior=prior, seed=0)
    assert proposer.propose([], [], step=0)["learner"] == "knn"
    configs = [LINEAR, KNN, {"learner": "linear", "linear.C": 100.0}]
    scores = proposer.acquisition(configs, np.array([0.9, np.nan, 0.8]),
                                  [LINEAR, {"learner": "linear", "linear.C": 0.01}])
    assert np.isfinite(scores).all()


def test_gp_proposer_with_a_cost_takes_the_cheap_candidate_when_time_is_short():
    """Expected improvement is divided by how far a candidate's predicted fit time is over
    a tenth of the time left: the slow candidate nearer the best (C = 10) loses to a fast
    one when time is short, and wins when there is time."""
    cs = [0.001, 0.01, 0.1, 1.0, 10.0, 100.0]
    configs = [{"learner": "linear", "linear.C": c} for c in cs]
    values = [-abs(np.log10(c) - 1.0) for c in cs]  # best at C = 10
    slow, fast = {"learner": "linear", "linear.C": 15.0}, {"learner": "linear", "linear.C": 5.0}

    def cost(candidates):
        return np.array([100.0 if c["linear.C"] > 10 else 0.01 for c in candidates])

    proposer = BayesianProposer(["linear"], "classification", seed=0, cost=cost)
    assert proposer.propose(configs, values, 6, candidates=[slow, fast]) == slow  # no clock
    assert proposer.propose(configs, values, 6, candidates=[slow, fast],
                            time_left=1e4) == slow  # 100 s is within a tenth of 10,000
    assert proposer.propose(configs, values, 6, candidates=[slow, fast],
                            time_left=1.0) == fast  # 1,000 times over its share


def test_bayes_sampler_drives_an_optuna_study_over_the_conditional_space():
    def objective(trial):
        config = sample_config(trial, LEARNERS, "classification")
        if config["learner"] == "linear":
            return -abs(np.log10(config["linear.C"]))
        return -5.0

    def run(seed):
        sampler = BayesSampler(LEARNERS, "classification", seed=seed, n_startup=4)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        study.enqueue_trial(LINEAR)
        study.optimize(objective, n_trials=10)
        return study

    study = run(0)
    assert len(study.trials) == 10 and all(t.state.name == "COMPLETE" for t in study.trials)
    enc = ConfigEncoder(LEARNERS, "classification")
    assert all(enc.supports(t.params) for t in study.trials)  # whole, valid configurations
    assert {t.params["learner"] for t in study.trials} == set(LEARNERS)
    assert [t.params for t in run(0).trials] == [t.params for t in study.trials]  # seeded


# ------------------------------------------------------------------ fit and suggest_configs
def _small_classification():
    from sklearn.datasets import make_classification

    return make_classification(n_samples=150, n_features=6, random_state=0)


def test_fit_starts_with_the_warm_start_and_records_where_each_trial_came_from(model):
    from automl_meta import AutoMLClassifier

    X, y = _small_classification()
    fitted = AutoMLClassifier(n_trials=4, storage="memory", warm_start=model, verbose=0,
                              isolation="none", learners=LEARNERS).fit(X, y)
    trials = fitted.study_.trials
    from automl_meta.warm_start.suggest import first_trials

    meta = fitted.study_.user_attrs["meta_features"]
    wave, _ = first_trials(model, meta, "classification", LEARNERS, n_trials=4)
    unordered, _ = first_trials(model, meta, "classification", LEARNERS)
    # the proposals, the first four held to the cold start's predicted time
    assert [t.params for t in trials] == wave[:4]
    assert sorted(map(str, wave)) == sorted(map(str, unordered))
    assert all(t.user_attrs["origin"].startswith("warm-start:") for t in trials)
    assert all("predicted_score" in t.user_attrs for t in trials)
    assert all(t.user_attrs["predicted_seconds"] > 0 for t in trials)  # the cost model's
    assert fitted.study_.user_attrs["warm_start"]["enabled"] is True
    assert fitted.nearest_datasets_ and "distance" in fitted.nearest_datasets_[0]
    board = fitted.leaderboard()
    assert board["origin"].str.startswith("warm-start:").all()


def test_cold_fit_uses_the_defaults_and_bad_arguments_are_named(model):
    from automl_meta import AutoMLClassifier

    X, y = _small_classification()
    cold = AutoMLClassifier(n_trials=2, storage="memory", warm_start=False, verbose=0,
                            isolation="none").fit(X, y)
    assert [t.user_attrs["origin"] for t in cold.study_.trials] == ["default", "default"]
    assert cold.study_.user_attrs["warm_start"] == {"enabled": False}
    with pytest.raises(TypeError, match="warm_start"):
        AutoMLClassifier(n_trials=1, storage="memory", warm_start="yes", verbose=0).fit(X, y)
    import time

    from automl_meta.search.study import choose_sampler
    from automl_meta.warm_start.suggest import surrogate_functions

    task_model = model.tasks["classification"]
    prior, cost = surrogate_functions(task_model, {}, 5)
    assert type(choose_sampler("auto", LEARNERS, "classification", 0, warm=True, prior=prior,
                               cost=cost)).__name__ == "BayesSampler"  # BO after a warm start
    assert type(choose_sampler("auto", LEARNERS, "classification", 0, warm=False)
                ).__name__ == "TPESampler"  # auto, cold
    prior, cost = surrogate_functions(task_model, {"n_rows": 150.0}, 3)
    timed = choose_sampler("auto", LEARNERS, "classification", 0, warm=True, prior=prior,
                           cost=cost, deadline=time.monotonic() + 30.0)
    assert 29.0 < timed.time_left() <= 30.0  # BO under a budget: cost-aware
    assert timed.proposer.cost([FOREST])[0] > timed.proposer.cost([LINEAR])[0]
    with pytest.raises(ValueError, match="sampler"):
        AutoMLClassifier(n_trials=1, storage="memory", sampler="cma", verbose=0,
                         warm_start=model).fit(X, y)


def test_bo_sampler_continues_after_the_warm_start(model):
    from automl_meta import AutoMLClassifier

    X, y = _small_classification()
    fitted = AutoMLClassifier(n_trials=12, storage="memory", warm_start=model, sampler="bo",
                              verbose=0, isolation="none", learners=["linear", "knn"]).fit(X, y)
    origins = [t.user_attrs["origin"] for t in fitted.study_.trials]
    assert origins[-1] == "sampler" and origins[0].startswith("warm-start:")
    assert all(t.state.name == "COMPLETE" for t in fitted.study_.trials)


def test_first_trials_are_the_proposals_or_else_each_familys_defaults(model):
    from automl_meta.search_space import default_configs
    from automl_meta.warm_start.suggest import first_trials

    configs, attrs = first_trials(model, query(2.5), "classification", LEARNERS, seed=3,
                                  time_budget=30.0)
    proposals = model.suggest(query(2.5), "classification", k=10, learners=LEARNERS, seed=3,
                              time_budget=30.0)
    assert configs == [p.config for p in proposals]  # every family known: no follow-ups
    assert [a["origin"] for a in attrs] == [f"warm-start:{p.source}" for p in proposals]
    assert [a["predicted_score"] for a in attrs] == [p.predicted for p in proposals]
    for no_model, task, learners in ((None, "classification", LEARNERS),
                                     (model, "regression", ["linear", "knn"])):
        configs, attrs = first_trials(no_model, query(2.5), task, learners)
        assert configs == default_configs(learners, task)  # cold, or nothing known of the task
        assert attrs == [{"origin": "default"}] * len(configs)


def test_the_first_wave_is_cost_aware_without_a_time_budget(model):
    """With ``n_trials`` alone, proposals are weighed against what the family defaults are
    predicted to take: none is predicted over MAX_TIMES_SHARE times its share."""
    from automl_meta.search_space import default_configs
    from automl_meta.warm_start import suggest
    from automl_meta.warm_start.model import WARM_SHARE

    implicit = suggest._implicit_budget(model, query(2.5), "classification", LEARNERS, 5,
                                        suggest.WARM_START_TRIALS)
    task_model = model.tasks["classification"]
    defaults = default_configs(LEARNERS, "classification")[:suggest.WARM_START_TRIALS]
    seconds = task_model.predict_seconds(task_model.scale_meta(query(2.5)), defaults,
                                         query(2.5)["n_rows"], 5)
    share = suggest.COLD_TIME_FACTOR * float(np.nanmean(seconds))
    assert implicit == pytest.approx(share * suggest.WARM_START_TRIALS / WARM_SHARE)
    configs, attrs = suggest.first_trials(model, query(2.5), "classification", LEARNERS)
    assert configs and all(a["predicted_seconds"] <= suggest.MAX_TIMES_SHARE * share
                           for a in attrs if "predicted_seconds" in a)
    same = suggest.first_trials(model, query(2.5), "classification", LEARNERS,
                                time_budget=implicit)
    kept = {json.dumps(c, sort_keys=True) for c in configs}
    assert kept <= {json.dumps(c, sort_keys=True) for c in same[0]}


def test_with_n_trials_the_first_trials_together_stay_within_the_cold_starts_time():
    """The first ``n_trials`` of the wave are predicted to take at most COLD_TIME_FACTOR x
    the cold start's first ``n_trials`` defaults, no slot over SLOT_SHARE x its share of
    what is left; a torch family pays the import once; what is passed over follows."""
    from automl_meta.warm_start import suggest

    seconds = {"a": 1.0, "b": 8.0, "c": 0.5, "mlp": 0.5, "d": 0.2, "e": 0.1}

    def seconds_of(configs):
        return np.array([seconds[c["learner"]] for c in configs])

    def wave(*names):
        return [({"learner": n}, {"origin": "warm-start:surrogate"}) for n in names]

    defaults = [{"learner": n} for n in ("a", "d", "e")]
    # allowance 1.5 x (1.0 + 0.2 + 0.1) = 1.95: slot 1 may take min(1.95, 2 x 1.95 / 3)
    # = 1.3, so a (1.0); then 0.95 left, at most 2 x 0.95 / 2: b (8.0) is passed over,
    # mlp (0.5 + the import) too, c (0.5) fits; 0.45 left for the last slot: d (the
    # cold start's next default that is not a proposal, 0.2) fits.
    proposed = wave("a", "b", "mlp", "c")
    out = suggest._within_cold_time(proposed, defaults, 3, seconds_of)
    assert [c["learner"] for c, _ in out] == ["a", "c", "d", "b", "mlp"]
    assert [a["origin"] for _, a in out][2] == "default"
    # the torch import is charged once: with a torch default the allowance holds it too,
    # 1.5 x (0.5 + 0.1 + 2.5) = 4.65; the first mlp costs 3.0, the second 0.5
    assert suggest.TORCH_IMPORT_SECONDS == 2.5
    second = ({"learner": "mlp", "mlp.epochs": 5}, {"origin": "warm-start:surrogate"})
    out = suggest._within_cold_time(wave("mlp") + [second],
                                    [{"learner": "mlp"}, {"learner": "e"}], 2, seconds_of)
    assert out == wave("mlp") + [second]
    # proposals that all cost too much give way to the cold start's own defaults
    out = suggest._within_cold_time(wave("b", "mlp"), [{"learner": "a"}, {"learner": "c"}],
                                    1, seconds_of)
    assert [(c["learner"], a["origin"]) for c, a in out][:1] == [("a", "default")]
    assert [c["learner"] for c, _ in out] == ["a", "b", "mlp"]
    # a slot nothing fits takes the cheapest proposal left (allowance 1.5 x 0.7: a, then
    # 0.05 left and no default that is not a proposal); same-dataset ones always lead
    out = suggest._within_cold_time(wave("b", "a", "c", "d"),
                                    [{"learner": "c"}, {"learner": "d"}], 2, seconds_of)
    assert [c["learner"] for c, _ in out] == ["a", "d", "b", "c"]
    own = [({"learner": "b"}, {"origin": "warm-start:same-dataset"})] + wave("a")
    assert suggest._within_cold_time(own, defaults, 1, seconds_of) == own
    nan = suggest._within_cold_time(proposed, defaults, 3,
                                    lambda configs: np.full(len(configs), np.nan))
    assert nan == proposed


def test_first_trials_under_n_trials_are_predicted_within_the_cold_time(model):
    from automl_meta.search_space import default_configs
    from automl_meta.warm_start import suggest

    task_model = model.tasks["classification"]
    meta = query(2.5)
    configs, attrs = suggest.first_trials(model, meta, "classification", LEARNERS,
                                          n_trials=2, cv_folds=5)
    cold = task_model.predict_seconds(task_model.scale_meta(meta),
                                      default_configs(LEARNERS, "classification")[:2],
                                      meta["n_rows"], 5)
    warm = task_model.predict_seconds(task_model.scale_meta(meta), configs[:2],
                                      meta["n_rows"], 5)
    assert warm.sum() <= suggest.COLD_TIME_FACTOR * cold.sum() + 1e-9
    unbounded, _ = suggest.first_trials(model, meta, "classification", LEARNERS, cv_folds=5)
    key = [json.dumps(c, sort_keys=True) for c in configs]
    assert sorted(key) == sorted(json.dumps(c, sort_keys=True) for c in unbounded)


def test_first_wave_recipes(model):
    from automl_meta.search_space import default_configs
    from automl_meta.warm_start.suggest import first_trials

    defaults = default_configs(LEARNERS, "classification")
    configs, attrs = first_trials(model, query(2.5), "classification", LEARNERS,
                                  recipe="defaults")
    assert configs == defaults and {a["origin"] for a in attrs} == {"default"}
    configs, attrs = first_trials(model, query(2.5), "classification", LEARNERS,
                                  recipe="portfolio", time_budget=30.0)
    assert attrs[0]["origin"] == "warm-start:portfolio"
    assert configs[0] == model.tasks["classification"].portfolio[0]
    configs, attrs = first_trials(model, query(2.5), "classification", LEARNERS,
                                  recipe="mixed", time_budget=30.0)
    # proposals and defaults in turn, each family once while new families remain
    assert attrs[0]["origin"].startswith("warm-start:") and attrs[1]["origin"] == "default"
    families = [c["learner"] for c in configs]
    distinct = len(set(families))
    assert len(set(families[:distinct])) == distinct
    # each family's defaults, in the surrogate's predicted order, every one of them
    task_model = model.tasks["classification"]
    configs, attrs = first_trials(model, query(2.5), "classification", LEARNERS,
                                  recipe="ranked", time_budget=30.0)
    predicted = task_model.predict(task_model.scale_meta(query(2.5)), configs)
    assert sorted(map(str, configs)) == sorted(map(str, defaults))
    assert list(predicted) == sorted(predicted, reverse=True)
    assert [a["predicted_score"] for a in attrs] == pytest.approx(predicted, abs=1e-4)
    assert {a["origin"] for a in attrs} == {"default"}
    held, _ = first_trials(model, query(2.5), "classification", LEARNERS, recipe="ranked",
                           n_trials=2)  # held to the cold start's time: reordered only
    assert sorted(map(str, held)) == sorted(map(str, defaults))
    with pytest.raises(ValueError, match="first-wave recipe"):
        first_trials(model, query(2.5), "classification", LEARNERS, recipe="nope")


def test_the_meta_learned_learners_follow_a_warm_start_that_did_not_propose_them(
        monkeypatch):
    """``mlp_meta`` and ``protonet`` are known to the knowledge base (poor there, so not
    proposed); every search still tries their defaults once, right after the proposals."""
    pytest.importorskip("torch")
    from automl_meta import AutoMLClassifier
    from automl_meta.search_space import default_configs
    from automl_meta.warm_start import suggest

    neural = ["mlp_meta", "protonet"]
    storage = InMemoryStorage()
    rng = np.random.default_rng(0)
    for i in range(8):
        add_dataset(storage, f"d{i}", f"d{i}", 2.0 if i % 2 else -2.0, rng, extra_configs=2)
    for summary in optuna.get_all_study_summaries(storage):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        for config in default_configs(neural, "classification"):
            dists = {"learner": optuna.distributions.CategoricalDistribution(
                LEARNERS + neural)}
            dists.update({f"{config['learner']}.{k}": d for k, d in
                          learner_space(config["learner"], "classification").items()})
            study.add_trial(optuna.trial.create_trial(
                params=config, distributions=dists, value=0.1,
                user_attrs={"fit_time": 0.01}))
    model = build_proposal_model(KnowledgeBase(storage), learners=LEARNERS + neural)
    assert set(neural) <= set(model.tasks["classification"].learners)
    monkeypatch.setattr(suggest, "WARM_START_TRIALS", 2)
    X, y = _small_classification()
    fitted = AutoMLClassifier(n_trials=4, storage="memory", warm_start=model, verbose=0,
                              isolation="none", learners=LEARNERS + neural).fit(X, y)
    trials = fitted.study_.trials
    assert {t.params["learner"] for t in trials[:2]} <= set(LEARNERS)  # not proposed
    assert all(t.user_attrs["origin"].startswith("warm-start:") for t in trials[:2])
    assert [t.params for t in trials[2:]] == default_configs(neural, "classification")
    assert [t.user_attrs["origin"] for t in trials[2:]] == ["default", "default"]
    assert all(t.state.name == "COMPLETE" for t in trials)


def test_suggest_configs_with_the_shipped_knowledge_base(monkeypatch):
    from sklearn.datasets import load_wine

    from automl_meta import suggest_configs
    from automl_meta.knowledge.storage import shipped_knowledge_url

    monkeypatch.delenv("AUTOML_META_KNOWLEDGE")
    assert shipped_knowledge_url().endswith("studies/knowledge.db")
    frame = suggest_configs(load_wine(as_frame=True).frame, "target", k=6)
    assert list(frame.columns) == ["learner", "params", "origin", "predicted_score",
                                   "predicted_seconds", "config"]
    assert (frame["predicted_seconds"] > 0).all()
    assert len(frame) == 6 and frame["learner"].nunique() >= 3
    # wine is in the shipped corpus: its own three best configurations lead
    assert frame["origin"].tolist()[:3] == ["same-dataset:wine"] * 3
    assert frame["origin"][3:].str.match(r"^(portfolio|surrogate|knn:.+)$").all()
    assert frame["config"].map(json.dumps).nunique() == 6
    only = suggest_configs(load_wine(as_frame=True).frame, "target", k=3, learners=["svm"])
    assert set(only["learner"]) == {"svm"}


def test_missing_knowledge_base_is_an_error_and_no_file_is_created(tmp_path):
    from automl_meta import suggest_configs
    from automl_meta.exceptions import StorageError

    url = f"sqlite:///{tmp_path / 'nope.db'}"
    with pytest.raises(StorageError, match="does not exist"):
        suggest_configs(_small_classification(), k=2, knowledge=url)
    assert not (tmp_path / "nope.db").exists()


# ------------------------------------------------------------------ your own past fits
def _past_fit(storage, name: str, size: float, best: dict) -> None:
    """A past fit on a dataset of ``size`` where ``best`` won."""
    meta = query(size)
    study = optuna.create_study(storage=storage, study_name=name, direction="maximize")
    for key, value in {"fingerprint": f"fp-{name}", "dataset": name, "task": "classification",
                       "metric": "accuracy", "meta_features": meta}.items():
        study.set_user_attr(key, value)
    for config in (LINEAR, FOREST, KNN):
        study.add_trial(optuna.trial.create_trial(
            params=config, distributions=_distributions(config),
            value=0.9 if config == best else 0.6))


def test_own_past_fits_join_the_neighbours_and_the_same_dataset_leads(model):
    storage = InMemoryStorage()
    _past_fit(storage, "mine", 9.0, best=KNN)  # big, yet k-NN won: unlike the knowledge base
    before = [dict(d) for d in model.tasks["classification"].datasets]
    mine = model.with_history(KnowledgeBase(storage), fingerprint="fp-mine")
    assert model.tasks["classification"].datasets == before  # the model itself is unchanged
    assert len(mine.tasks["classification"].datasets) == len(before) + 1
    assert mine.knowledge_digest != model.knowledge_digest
    assert mine.knowledge_urls == model.knowledge_urls + ["InMemoryStorage"]
    near = mine.suggest(query(9.0), "classification", k=3, strategy="knn")
    assert (near[0].origin, near[0].config) == ("knn:mine", KNN)
    same = mine.suggest(query(9.0), "classification", k=6, fingerprint="fp-mine")
    assert [p.origin for p in same[:3]] == ["same-dataset:mine"] * 3
    assert same[0].config == KNN  # its best first
    assert len({json.dumps(p.config, sort_keys=True) for p in same}) == 6
    # without the fingerprint, the same dataset's bests are only candidates
    assert all(p.source != "same-dataset"
               for p in mine.suggest(query(9.0), "classification", k=6))
    assert model.with_history(KnowledgeBase(InMemoryStorage())) is model
    # a dataset the knowledge base holds (big0: the forest won there), searched again
    # by you (k-NN won): your own result leads
    _past_fit(storage, "big0", 2.0, best=KNN)
    again = model.with_history(KnowledgeBase(storage), fingerprint="fp-big0")
    lead = again.suggest(query(2.0), "classification", k=4, fingerprint="fp-big0")
    assert (lead[0].origin, lead[0].config) == ("same-dataset:big0", KNN)
    assert model.suggest(query(2.0), "classification", k=1, fingerprint="fp-big0"
                         )[0].config == FOREST  # the knowledge base's own best, without
    # another dataset's past fits: one query per study, its best configuration only
    other = model.with_history(KnowledgeBase(storage))
    assert other.tasks["classification"].datasets[-1]["best"] == [KNN]


def test_best_configs_reads_each_dataset_direction_aware():
    storage = InMemoryStorage()
    _past_fit(storage, "a", 1.0, best=FOREST)
    study = optuna.create_study(storage=storage, study_name="b", direction="minimize")
    study.set_user_attr("fingerprint", "fp-b")
    study.set_user_attr("meta_features", query(0.0))
    for config, loss in ((LINEAR, 0.3), (KNN, 0.1), (FOREST, 0.2)):
        study.add_trial(optuna.trial.create_trial(
            params=config, distributions=_distributions(config), value=loss))
    kb = KnowledgeBase(storage)
    assert kb.best_configs() == {"fp-a": [FOREST], "fp-b": [KNN]}
    assert kb.best_configs(2, fingerprints=["fp-b"]) == {"fp-b": [KNN, FOREST]}
    tuned = InMemoryStorage()  # runners-up that are near-copies of the best
    _past_fit(tuned, "c", 1.0, best=LINEAR)
    study = optuna.load_study(study_name="c", storage=tuned)
    near_copy = {**LINEAR, "linear.C": 1.1}
    study.add_trial(optuna.trial.create_trial(
        params=near_copy, distributions=_distributions(near_copy), value=0.85))
    assert KnowledgeBase(tuned).best_configs(2)["fp-c"] == [LINEAR, near_copy]
    assert KnowledgeBase(tuned).best_configs(2, one_per_learner=True)["fp-c"] == [
        LINEAR, FOREST]


def test_a_second_fit_of_the_same_data_starts_from_the_first_fits_best(tmp_path, monkeypatch):
    from automl_meta import AutoMLClassifier

    knowledge = f"sqlite:///{tmp_path / 'knowledge.db'}"
    storage = optuna.storages.RDBStorage(knowledge)
    rng = np.random.default_rng(0)
    for i in range(6):
        add_dataset(storage, f"big{i}", f"big{i}", 2.0 + 0.1 * i, rng)
        add_dataset(storage, f"small{i}", f"small{i}", -2.0 - 0.1 * i, rng)
    storage.engine.dispose()
    monkeypatch.setenv("AUTOML_META_KNOWLEDGE", knowledge)
    studies = f"sqlite:///{tmp_path / 'studies.db'}"
    X, y = _small_classification()
    options = dict(n_trials=3, storage=studies, verbose=0, isolation="none",
                   learners=LEARNERS)
    first = AutoMLClassifier(study_name="first", **options).fit(X, y)
    assert not any(t.user_attrs["origin"] == "warm-start:same-dataset"
                   for t in first.study_.trials)
    second = AutoMLClassifier(study_name="second", **options).fit(X, y)
    lead = second.study_.trials[0]
    assert lead.user_attrs["origin"] == "warm-start:same-dataset"
    assert lead.params == first.study_.best_trial.params
    assert studies in second.study_.user_attrs["warm_start"]["knowledge"]
    # cold, or with knowledge named explicitly, past fits are not read
    named = AutoMLClassifier(study_name="third", knowledge=knowledge, **options).fit(X, y)
    assert all(t.user_attrs["origin"] != "warm-start:same-dataset"
               for t in named.study_.trials)


def test_the_knowledge_digest_is_remembered_per_file_state(tmp_path, monkeypatch):
    """A fit reads the knowledge base's digest to know its artifact is current; for an
    unchanged SQLite file it is remembered (in this process and the user's cache)."""
    import optuna

    from automl_meta.warm_start import artifact

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(artifact, "_DIGESTS", {})
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    optuna.create_study(storage=url, study_name="s")
    calls = []
    real = KnowledgeBase.digest

    def counted(self):
        calls.append(1)
        return real(self)

    monkeypatch.setattr(KnowledgeBase, "digest", counted)
    first = artifact.knowledge_digest(KnowledgeBase(url))
    assert artifact.knowledge_digest(KnowledgeBase(url)) == first and len(calls) == 1
    monkeypatch.setattr(artifact, "_DIGESTS", {})  # a new process: the cache file answers
    assert artifact.knowledge_digest(KnowledgeBase(url)) == first and len(calls) == 1
    optuna.create_study(storage=url, study_name="t")  # the file changed: hashed again
    assert artifact.knowledge_digest(KnowledgeBase(url)) == real(KnowledgeBase(url))
    assert len(calls) == 2


def test_a_current_artifact_is_read_without_opening_the_knowledge_base(tmp_path,
                                                                      monkeypatch):
    """Opening an Optuna database storage costs SQLAlchemy's and Alembic's imports
    (seconds on a busy core); a knowledge base whose artifact is current is never
    opened, only checked."""
    import optuna

    from automl_meta.knowledge import base
    from automl_meta.warm_start import artifact
    from automl_meta.warm_start.suggest import proposal_model_for

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(artifact, "_DIGESTS", {})
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    optuna.create_study(storage=url, study_name="s")
    first = proposal_model_for(url)  # builds and saves the artifact, remembers the digest

    def refuse(source):
        raise AssertionError(f"opened {source}")

    monkeypatch.setattr(base, "_open_read_only", refuse)
    again = proposal_model_for(url)
    assert again.knowledge_digest == first.knowledge_digest
    with pytest.raises(AssertionError, match="opened"):
        KnowledgeBase(url).datasets()  # reading does open it
