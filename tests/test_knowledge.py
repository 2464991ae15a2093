"""The knowledge base: every fit is an experience; export, import, merge; corpus build."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import optuna
import pandas as pd
import pytest
from sklearn.datasets import load_iris, load_wine

from automl_meta import AutoMLClassifier
from automl_meta._optuna import has_optuna_tables
from automl_meta.corpus.build import BuildSettings, build_knowledge, content_key, portfolio
from automl_meta.corpus.datasets import corpus_datasets, keel_family
from automl_meta.knowledge import KnowledgeBase, export_knowledge, get_storage, import_knowledge
from automl_meta.meta_features import feature_names


def _fit(url, loader, name, n_trials=3):
    X, y = loader(return_X_y=True)
    return AutoMLClassifier(n_trials=n_trials, storage=url, verbose=0, isolation="none",
                            learners=["linear", "knn"]).fit(X, y, dataset_name=name)


@pytest.fixture
def project(tmp_path):
    url = f"sqlite:///{tmp_path / 'project.db'}"
    _fit(url, load_iris, "iris")
    _fit(url, load_wine, "wine")
    return url


def test_every_fit_is_an_experience(project):
    kb = KnowledgeBase(project)
    frame = kb.datasets()
    assert sorted(frame["dataset"]) == ["iris", "wine"]
    assert (frame["n_trials"] == 3).all()
    mf = kb.meta_features()
    assert list(mf.columns) == feature_names() and np.isfinite(mf.to_numpy()).all()


def test_trials_and_normalised_score_matrix(project):
    kb = KnowledgeBase(project)
    fp = kb.datasets().index[0]
    trials = kb.trials(fp)
    assert len(trials) == 3 and set(trials["learner"]) <= {"linear", "knn"}
    matrix = kb.score_matrix()
    assert matrix.shape[0] == 2
    assert ((matrix.max(axis=1) == 1.0) & (matrix.min(axis=1) == 0.0)).all()
    # log-loss is minimised: the best trial (lowest loss) is the row's 1.0
    best = trials.loc[trials["score"].idxmin(), "config"]
    assert matrix.loc[fp, best] == 1.0


def test_exclude_by_fingerprint(project):
    kb = KnowledgeBase(project)
    fp = kb.datasets().index[0]
    held_out = kb.exclude([fp])
    assert list(held_out.datasets().index) == [f for f in kb.datasets().index if f != fp]
    assert fp not in held_out.score_matrix().index


def test_export_import_round_trip_into_empty_storage(project, tmp_path):
    path = tmp_path / "shared.db"
    report = export_knowledge(project, path)
    assert len(report.copied) == 2
    target = f"sqlite:///{tmp_path / 'empty.db'}"
    import_knowledge(path, target)
    for a, b in zip(sorted(optuna.get_all_study_summaries(project),
                           key=lambda s: s.study_name),
                    sorted(optuna.get_all_study_summaries(target), key=lambda s: s.study_name),
                    strict=True):
        assert (a.study_name, a.user_attrs, a.n_trials) == (b.study_name, b.user_attrs,
                                                            b.n_trials)
        ta = optuna.load_study(study_name=a.study_name, storage=project).trials
        tb = optuna.load_study(study_name=b.study_name, storage=target).trials
        assert [(t.params, t.value, t.user_attrs) for t in ta] == \
            [(t.params, t.value, t.user_attrs) for t in tb]
    again = import_knowledge(path, target)  # idempotent
    assert again.copied == [] and len(again.skipped) == 2


def test_merging_two_projects_loses_nothing(project, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    model = _fit(other, load_iris, "iris")
    # a different study that happens to have a name the first project uses
    taken = optuna.get_all_study_names(project)[0]
    optuna.copy_study(from_study_name=model.study_name_, from_storage=other,
                      to_storage=other, to_study_name=taken)
    study = optuna.load_study(study_name=taken, storage=other)
    study.set_user_attr("uid", "f" * 32)
    path = tmp_path / "other.db"
    report = import_knowledge(path, project)
    assert len(report.copied) == 2 and taken in report.renamed
    assert len(optuna.get_all_study_names(project)) == 4


def test_portfolio_is_shared_and_covers_every_family():
    a, b = portfolio("classification", 40), portfolio("classification", 40)
    assert a == b and len(a) == 40
    assert {c["learner"] for c in a} >= {"linear", "knn", "svm", "random_forest",
                                          "extra_trees", "hist_gradient_boosting",
                                          "lightgbm", "mlp"}


def test_content_key_finds_the_same_data_under_other_names():
    X, y = load_iris(return_X_y=True)
    a = content_key(pd.DataFrame(X), pd.Series(y), "classification")
    shuffled = np.random.default_rng(0).permutation(len(y))
    renamed = pd.DataFrame(X[shuffled], columns=list("abcd"))
    labels = pd.Series(np.array(["setosa", "versicolor", "virginica"])[y[shuffled]])
    assert content_key(renamed, labels, "classification") == a
    assert content_key(pd.DataFrame(X[:-1]), pd.Series(y[:-1]), "classification") != a
    # same table, same class sizes, another split into classes: not a duplicate
    y_other = y.copy()
    y_other[[0, 50]] = y[[50, 0]]
    assert content_key(pd.DataFrame(X), pd.Series(y_other), "classification") != a


def test_keel_variants_share_their_family():
    assert {keel_family(n) for n in ["abalone9-18", "abalone19", "abalone-3_vs_11"]} == {
        "abalone"}
    listed = corpus_datasets(["sklearn", "keel"], reviewed=False)
    assert sum(d.source == "keel" for d in listed) == 143
    by_key = {d.key: d for d in corpus_datasets(["sklearn", "keel"])}
    assert by_key["sklearn:breast_cancer"].family == by_key["keel:wdbc"].family
    # the catalogue leaves out KEEL's copies of validation data (R's iris, MASS's Pima)
    assert "keel:iris" in {d.key for d in listed} and "keel:iris" not in by_key
    assert "keel:pima" not in by_key and "keel:yeast1" in by_key


def test_tiny_corpus_build_is_resumable(tmp_path):
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    settings = BuildSettings(n_configs=3, workers=2, learners=["linear", "knn"],
                             trial_timeout=30, added_portfolios={})
    names = ["wine", "diabetes"]
    first = build_knowledge(url, ["sklearn"], settings, names=names, progress=False)
    assert sorted(first) == ["sklearn:diabetes: 3 portfolio + 0 searched trials",
                             "sklearn:wine: 3 portfolio + 0 searched trials"]
    # a build killed mid-trial leaves a RUNNING trial behind: it is redone, not counted
    study = optuna.load_study(study_name="corpus:sklearn:wine", storage=url)
    study.ask()
    again = build_knowledge(url, ["sklearn"], settings, names=names, progress=False)
    assert sorted(again) == ["sklearn:diabetes: complete, skipped",
                             "sklearn:wine: complete, skipped"]
    kb = KnowledgeBase(url)
    frame = kb.datasets()
    assert sorted(frame["task"]) == ["classification", "regression"]
    assert set(frame["source"]) == {"sklearn"}
    assert kb.score_matrix(task="classification").shape == (1, 3)
    assert frame.loc[frame["dataset"] == "wine", "n_rows"].item() == 178
    # a family added later (catboost) gets its own portfolio appended to each study
    wider = build_knowledge(url, ["sklearn"], replace(settings, added_portfolios={
        "catboost": 1}), names=["wine"], progress=False)
    assert wider == ["sklearn:wine: 1 portfolio + 0 searched trials"]
    study = optuna.load_study(study_name="corpus:sklearn:wine", storage=url)
    assert study.user_attrs["learners"] == ["linear", "knn", "catboost"]
    # (the trial left running above stays failed, without parameters)
    assert [t.params.get("learner") for t in study.get_trials()] == [
        "linear", "knn", "linear", None, "catboost"]
    assert KnowledgeBase(url).score_matrix(task="classification").shape == (1, 4)


def test_fit_reads_knowledge_read_only_and_records_nearest_datasets(project, tmp_path):
    before = {s.study_name: s.n_trials for s in optuna.get_all_study_summaries(project)}
    X, y = load_iris(return_X_y=True)
    own = f"sqlite:///{tmp_path / 'own.db'}"
    model = AutoMLClassifier(n_trials=1, storage=own, knowledge=[project], verbose=0,
                             isolation="none").fit(X, y, dataset_name="iris-again")
    # the same data (iris) is this dataset itself and is left out; wine remains
    assert [d["dataset"] for d in model.nearest_datasets_] == ["wine"]
    assert model.study_.user_attrs["nearest_datasets"] == model.nearest_datasets_
    after = {s.study_name: s.n_trials for s in optuna.get_all_study_summaries(project)}
    assert after == before  # the knowledge storage was only read


def test_a_rebuild_draws_the_shipped_portfolios(monkeypatch):
    """The shared portfolios are fixed: rebuilding the shipped knowledge base evaluates
    the configurations it holds, not new ones, whatever families the library gained."""
    from automl_meta.corpus.build import ADDED_PORTFOLIOS, PORTFOLIO_LEARNERS
    from automl_meta.corpus.neural import NEURAL_CONFIGS, NEURAL_LEARNERS
    from automl_meta.knowledge import config_key
    from automl_meta.knowledge.storage import SHIPPED_KNOWLEDGE_ENV, shipped_knowledge_url

    monkeypatch.delenv(SHIPPED_KNOWLEDGE_ENV)  # the shipped knowledge base
    for name, task in (("corpus:sklearn:wine", "classification"),
                       ("corpus:sklearn:diabetes", "regression")):
        study = optuna.load_study(study_name=name, storage=shipped_knowledge_url())
        stored = {config_key(t.params) for t in study.trials
                  if t.user_attrs.get("origin") == "portfolio"}
        expected = (portfolio(task, 40) + portfolio(task, NEURAL_CONFIGS, NEURAL_LEARNERS)
                    + [c for added, n in ADDED_PORTFOLIOS.items()
                       for c in portfolio(task, n, (added,))])
        assert stored == {config_key(c) for c in expected}
        assert {c["learner"] for c in expected} == set(PORTFOLIO_LEARNERS) | {"catboost"} | (
            {"mlp_meta", "protonet"} if task == "classification" else {"mlp_meta"})


def test_widen_choices_keeps_stored_trials_and_refuses_a_reordering(tmp_path):
    from optuna.distributions import CategoricalDistribution

    from automl_meta.exceptions import StorageError
    from automl_meta.knowledge import get_storage
    from automl_meta.knowledge.storage import widen_choices

    storage = get_storage(f"sqlite:///{tmp_path / 'w.db'}")
    study = optuna.create_study(study_name="s", storage=storage)
    study.optimize(lambda t: float(len(t.suggest_categorical("learner", ["a", "b"]))), 4)
    before = [(t.params, t.value) for t in study.trials]
    with pytest.raises(ValueError, match="CategoricalDistribution"):
        study.enqueue_trial({"learner": "c"})
        study.optimize(lambda t: t.suggest_categorical("learner", ["a", "b", "c"]) and 1.0, 1)
    with pytest.raises(ValueError, match="not a prefix"):
        widen_choices(storage, "s", "learner", ["b", "a", "c"])
    assert widen_choices(storage, "s", "learner", ["a", "b", "c"]) == 4
    assert widen_choices(storage, "s", "learner", ["a", "b", "c"]) == 0
    study = optuna.load_study(study_name="s", storage=storage)
    assert [(t.params, t.value) for t in study.trials[:4]] == before
    study.enqueue_trial({"learner": "c"})
    study.optimize(lambda t: float(len(t.suggest_categorical("learner", ["a", "b", "c"]))), 1)
    assert study.trials[-1].params == {"learner": "c"}
    assert study.trials[-1].distributions["learner"] == CategoricalDistribution(["a", "b", "c"])
    with pytest.raises(StorageError, match="relational"):
        widen_choices(optuna.storages.InMemoryStorage(), "s", "learner", ["a"])


def test_neural_build_starts_each_dataset_from_an_initialisation_blind_to_its_family(
        tmp_path):
    """The neural evidence joins a dataset's existing study (its earlier trials kept) and
    comes from an initialisation meta-trained without that dataset's fold of families."""
    from automl_meta.corpus.neural import build_neural_knowledge, family_folds
    from automl_meta.learners.torch.initialisation import Recipe, load_initialisation

    url = f"sqlite:///{tmp_path / 'kb.db'}"
    build_knowledge(url, ["sklearn"], BuildSettings(n_configs=2, learners=["linear", "knn"],
                                                  added_portfolios={}),
                    names=["wine"], progress=False)
    before = [(t.params, t.value) for t in optuna.load_study(
        study_name="corpus:sklearn:wine", storage=url).trials]
    kwargs = dict(sources=["sklearn"], n_folds=2, names=["wine"], recipe=Recipe(steps=3),
                  settings=BuildSettings(trial_timeout=60), progress=False)
    assert build_neural_knowledge(url, tmp_path / "folds", **kwargs) == [
        "sklearn:wine: 8 portfolio + 0 searched trials"]
    study = optuna.load_study(study_name="corpus:sklearn:wine", storage=url)
    assert study.user_attrs["learners"] == ["linear", "knn", "mlp_meta", "protonet"]
    assert [(t.params, t.value) for t in study.trials[:2]] == before
    neural = study.trials[2:]
    assert {t.params["learner"] for t in neural} == {"mlp_meta", "protonet"}
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in neural)
    fold = next(i for i, f in enumerate(family_folds(
        (d.family for d in corpus_datasets()), 2)) if "wine" in f)
    record = study.user_attrs["meta_init"]
    assert record["file"] == f"fold-{fold}-of-2.pt" and "wine" in record["exclude_families"]
    _, meta = load_initialisation(tmp_path / "folds" / record["file"])
    assert "wine" in meta["recipe"]["exclude_families"]
    assert not any(name.endswith(":wine") for name in meta["tasks"])
    assert build_neural_knowledge(url, tmp_path / "folds", **kwargs) == [
        "sklearn:wine: complete, skipped"]
    assert KnowledgeBase(url).score_matrix(task="classification").shape == (1, 10)


def test_an_interrupted_build_stops_after_the_running_trials(tmp_path):
    """Ctrl-C (or SIGTERM, which the command line turns into it) stops a build's dataset
    threads after their current trial, instead of when a whole dataset is done; what is
    stored stays, nothing is left running, and the same build resumes."""
    import _thread
    import signal
    import threading
    import time

    url = f"sqlite:///{tmp_path / 'kb.db'}"
    settings = BuildSettings(n_configs=30, workers=2, learners=["linear", "knn"],
                             trial_timeout=30, added_portfolios={})
    names = ["digits", "breast_cancer"]
    interrupted_at: list[float] = []

    def interrupt_once_trials_run() -> None:
        # The storage is opened once, when the build has set it up (opening one per poll
        # costs the schema checks each time, on a busy machine longer than the build).
        storage = None
        while not interrupted_at:
            time.sleep(0.05)
            try:
                if storage is None:
                    if not (tmp_path / "kb.db").exists() or \
                            not has_optuna_tables(tmp_path / "kb.db"):
                        continue
                    storage = get_storage(url, create=False)
                summaries = optuna.get_all_study_summaries(storage)
            except Exception:  # noqa: BLE001 - the file is being set up
                continue
            if any(s.n_trials >= 3 for s in summaries):
                interrupted_at.append(time.monotonic())
                _thread.interrupt_main()  # as a Ctrl-C reaching the main thread

    # A process started in the background by a non-interactive shell ignores SIGINT, and
    # then interrupt_main() does nothing: Ctrl-C's handler, as the command line sets it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    watcher = threading.Thread(target=interrupt_once_trials_run, daemon=True)
    watcher.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            build_knowledge(url, ["sklearn"], settings, names=names, progress=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert interrupted_at, "the build ended before the watcher saw 3 trials"
    stopped = time.monotonic() - interrupted_at[0]
    stored = [s.study_name for s in optuna.get_all_study_summaries(url)]
    counts = []
    for name in stored:  # the datasets begun before the stop
        trials = optuna.load_study(study_name=name, storage=url).trials
        counts.append(len(trials))
        assert not any(t.state == optuna.trial.TrialState.RUNNING for t in trials)
    assert counts and min(counts) < 30 and stopped < 10.0, (counts, stopped)
    again = build_knowledge(url, ["sklearn"], settings, names=names, progress=False)
    assert all("portfolio" in message for message in again)
    for name in names:
        study = optuna.load_study(study_name=f"corpus:sklearn:{name}", storage=url)
        assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials) == 30
