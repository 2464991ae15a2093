"""The reaches into Optuna beyond its public API (``_optuna.py``)
against the installed Optuna: each is checked against what Optuna's public API says, so
that a release that changes a private name or its schema fails here, not in a search."""

from __future__ import annotations

import optuna
import pytest
import sqlalchemy as sa
from optuna.distributions import CategoricalDistribution, distribution_to_json
from optuna.storages import InMemoryStorage, RDBStorage

from automl_meta._optuna import (
    backend,
    frozen_study_id,
    has_optuna_tables,
    rdb_backend,
    replace_distributions,
    stored_distributions,
    study_storage,
    trial_counts,
    trial_id,
)


def _objective(trial: optuna.Trial) -> float:
    return float(len(trial.suggest_categorical("learner", ["a", "b"])))


@pytest.fixture()
def sqlite_studies(tmp_path):
    url = f"sqlite:///{tmp_path / 'o.db'}"
    first = optuna.create_study(storage=url, study_name="first")
    first.optimize(_objective, n_trials=3)
    second = optuna.create_study(storage=url, study_name="second")
    second.optimize(_objective, n_trials=1)
    return tmp_path / "o.db", first, second


def test_a_database_study_storage_is_the_cache_wrapper_around_the_rdb_storage(
        sqlite_studies):
    _, study, _ = sqlite_studies
    storage = study_storage(study)
    assert storage.get_study_id_from_name("first") is not None
    rdb = rdb_backend(storage)
    assert isinstance(rdb, RDBStorage) and backend(storage) is rdb
    assert rdb_backend(InMemoryStorage()) is None
    memory = InMemoryStorage()
    assert backend(memory) is memory


def test_study_and_trial_ids_are_the_storage_s_own(sqlite_studies):
    _, study, _ = sqlite_studies
    storage = study_storage(study)
    expected = storage.get_study_id_from_name("first")
    frozen = next(s for s in storage.get_all_studies() if s.study_name == "first")
    summary = next(s for s in optuna.get_all_study_summaries(storage)
                   if s.study_name == "first")
    assert frozen_study_id(frozen) == frozen_study_id(summary) == expected
    for t in study.get_trials():
        assert trial_id(t) == storage.get_trial_id_from_study_id_trial_number(
            expected, t.number)
    seen = []
    study.optimize(lambda trial: seen.append(trial_id(trial)) or 0.0, n_trials=1)
    assert seen == [trial_id(study.trials[-1])]


def test_trial_counts_per_study_match_optuna_in_sql_and_in_memory(sqlite_studies):
    path, study, _ = sqlite_studies
    storage = study_storage(study)
    expected = {storage.get_study_id_from_name(n): len(optuna.load_study(
        study_name=n, storage=storage).trials) for n in ("first", "second")}
    assert trial_counts(rdb_backend(storage)) == expected == {
        frozen_study_id(s): storage.get_n_trials(frozen_study_id(s))
        for s in storage.get_all_studies()}
    memory = optuna.create_study()
    memory.optimize(_objective, n_trials=2)
    assert trial_counts(study_storage(memory)) == {
        frozen_study_id(study_storage(memory).get_all_studies()[0]): 2}
    assert has_optuna_tables(path)


def test_stored_distributions_are_read_and_replaced_in_optuna_s_schema(sqlite_studies):
    _, study, _ = sqlite_studies
    rdb = rdb_backend(study_storage(study))
    old = distribution_to_json(CategoricalDistribution(["a", "b"]))
    new = distribution_to_json(CategoricalDistribution(["a", "b", "c"]))
    with rdb.engine.begin() as conn:
        assert stored_distributions(conn, "first", "learner") == [old]
        assert replace_distributions(conn, "first", "learner", new) == 3
    reloaded = optuna.load_study(study_name="first", storage=rdb)
    assert all(t.distributions["learner"] == CategoricalDistribution(["a", "b", "c"])
               for t in reloaded.trials)
    other = optuna.load_study(study_name="second", storage=rdb)
    assert other.trials[0].distributions["learner"] == CategoricalDistribution(["a", "b"])


def test_a_file_without_optuna_tables_is_told_apart(tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert not has_optuna_tables(empty)
    foreign = tmp_path / "foreign.db"
    engine = sa.create_engine(f"sqlite:///{foreign}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE things (x INTEGER)"))
    engine.dispose()
    assert not has_optuna_tables(foreign)
