"""Failures a new user hits: settings out of range, a failed fit that must not break the
next one, credentials, dependency errors turned into clear ones, silent changes made
loud, and commands that paste safely into a shell."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from automl_meta import AutoMLClassifier, fit
from automl_meta.exceptions import DataError, DataTypeError, StorageError
from automl_meta.params import ParameterError

from .conftest import data_warnings


def xy(n=60):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("settings, match", [
    ({"n_trials": -1}, "n_trials must be a whole number"),
    ({"n_trials": 0}, "n_trials must be a whole number"),
    ({"n_trials": 2.5}, "not 2.5"),
    ({"n_trials": "10"}, "not '10'"),
    ({"time_budget": float("inf")}, "time_budget must be a finite number"),
    ({"time_budget": float("nan")}, "time_budget must be a finite number"),
    ({"time_budget": 0}, "above 0"),
    ({"time_budget": -5}, "above 0"),
    ({"time_budget": "10"}, "not '10'"),
    ({"cv": 0}, "cv must be a whole number of at least 2"),
    ({"cv": 1}, "cv must be a whole number of at least 2"),
    ({"cv": 1000}, "cv must be at most 20"),
    ({"random_state": None}, "every search is seeded"),
    ({"n_jobs": 0}, "n_jobs must be"),
    ({"trial_timeout": -1}, "trial_timeout must be"),
])
def test_meaningless_settings_are_refused_by_name(settings, match):
    X, y = xy()
    kwargs = {"n_trials": 1, "storage": "memory", "verbose": 0, **settings}
    with pytest.raises(ParameterError, match=match):
        AutoMLClassifier(**kwargs).fit(X, y)


def test_a_failed_fit_does_not_break_the_next_one():
    """A search that stops with an error mid-exchange with its worker must not hand that
    worker, with its unread replies, to the next search."""
    from automl_meta.search import executor

    X, y = xy()
    model = AutoMLClassifier(n_trials=1, storage="memory", verbose=0)
    original = executor._Worker.__init__

    calls = []

    def poll_then_fail(self, *args, **kwargs):
        original(self, *args, **kwargs)
        real = self.replies.poll

        def poll(timeout=None):
            calls.append(timeout)
            if len(calls) == 2:  # the trial's result wait: fail as an overflow would
                raise OverflowError("cannot convert float infinity to integer")
            return real(timeout)
        self.replies.poll = poll

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(executor._Worker, "__init__", poll_then_fail)
        executor._POOL.clear()
        with pytest.raises(OverflowError):
            model.fit(X, y)
    again = AutoMLClassifier(n_trials=2, storage="memory", verbose=0).fit(X, y)
    assert np.isfinite(again.best_score_) and len(again.study_.trials) == 2


def test_passwords_stay_out_of_repr_and_pickles(monkeypatch):
    url = "postgresql://alice:s3cr@t@db.example:5432/studies"
    model = AutoMLClassifier(storage=url)
    assert "s3cr" not in repr(model) and "alice:***@db.example" in repr(model)
    assert model.storage == url  # the parameter itself is kept as given
    # a fitted model (here on SQLite, its URL standing in for PostgreSQL's) pickles without
    state = AutoMLClassifier(storage=url).__getstate__()
    assert "s3cr" not in pickle.dumps(state).decode("latin-1")
    assert state["storage"] == "postgresql://alice@db.example:5432/studies"


def test_unpickled_model_whose_database_is_gone(tmp_path):
    db = tmp_path / "gone.db"
    X, y = xy()
    model = AutoMLClassifier(n_trials=1, storage=f"sqlite:///{db}", verbose=0,
                             isolation="none").fit(X, y)
    blob = pickle.dumps(model)
    db.unlink()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"gone.db{suffix}").unlink(missing_ok=True)
    restored = pickle.loads(blob)
    assert restored.predict(X[:3]).shape == (3,)  # the model still predicts
    with pytest.raises(StorageError, match="No study database"):
        restored.leaderboard()
    assert not db.exists()  # and no empty database was made at the old path


def test_a_driver_that_is_not_installed_is_named():
    from automl_meta.knowledge import get_storage

    with pytest.raises(StorageError, match="driver for 'mysql' is not installed"):
        get_storage("mysql://user:pw@localhost/db")


def _open_after(barrier, url, results):
    from automl_meta.knowledge import get_storage

    barrier.wait()
    try:
        get_storage(url).get_all_studies()
        results.put("ok")
    except Exception as exc:  # reported to the test, which names it
        results.put(repr(exc))


def test_fits_opening_one_new_database_at_once_all_open_it(tmp_path):
    """Optuna creates a new database's tables check-then-create; processes opening one
    new SQLite file together raced into "table ... already exists" (a CI failure)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    url = f"sqlite:///{tmp_path / 'new.db'}"
    workers = [context.Process(target=_open_after, args=(barrier, url, results))
               for _ in range(4)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert outcomes == ["ok"] * 4


def test_a_schema_created_meanwhile_is_opened_again(monkeypatch, tmp_path):
    import sqlalchemy.exc

    from automl_meta.knowledge import storage as storage_module

    real, calls = storage_module.RDBStorage, []

    def racing(url, **kwargs):
        calls.append(url)
        if len(calls) == 1:
            raise sqlalchemy.exc.OperationalError(
                "CREATE TABLE trial_params", {}, Exception("table trial_params already exists"))
        return real(url, **kwargs)

    monkeypatch.setattr(storage_module, "RDBStorage", racing)
    opened = storage_module.get_storage(f"sqlite:///{tmp_path / 'x.db'}")
    assert len(calls) == 2 and opened.get_all_studies() == []
    calls.clear()

    def locked(url, **kwargs):  # any other database error is not retried
        calls.append(url)
        raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(storage_module, "RDBStorage", locked)
    with pytest.raises(StorageError, match="database is locked"):
        storage_module.get_storage(f"sqlite:///{tmp_path / 'y.db'}")
    assert len(calls) == 1


def test_an_overlong_study_name_is_refused(clf_frame, fast):
    with pytest.raises(DataError, match="at most 512"):
        fit(clf_frame, "target", study_name="s" * 600, **fast)


@pytest.mark.parametrize("column, kind", [
    ([[1, 2]] * 40 + [[3]] * 20, "list"),
    ([{"a": 1}] * 60, "dict"),
    (np.arange(60) + 1j, "complex"),
])
def test_container_and_complex_columns_are_refused_by_name(column, kind, fast):
    X, y = xy()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["odd"] = pd.Series(list(column) if kind != "complex" else column)
    with pytest.raises(DataTypeError, match="Column 'odd' holds"):
        AutoMLClassifier(**fast).fit(frame, y)


def test_lookalike_labels_are_warned_about(fast, catch_warnings):
    X, y = xy()
    labels = np.where(y == 1, "yes", "no").astype(object)
    labels[:5] = "yes "
    AutoMLClassifier(**fast).fit(X, labels)
    assert any("'yes' and 'yes '" in m for m in data_warnings(catch_warnings)) or any(
        "'yes ' and 'yes'" in m for m in data_warnings(catch_warnings))


def test_an_empty_file_as_knowledge_is_warned_about_and_left_alone(tmp_path, clf_frame,
                                                                    fast):
    empty = tmp_path / "empty.db"
    empty.touch()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fit(clf_frame, "target", knowledge=f"sqlite:///{empty}", **fast)
    assert any("holds no Optuna studies" in str(w.message) for w in record)
    assert empty.stat().st_size == 0


def test_printed_commands_are_shell_quoted(capsys):
    from types import SimpleNamespace

    from automl_meta.report.console import print_summary

    model = SimpleNamespace(storage_url_="sqlite:////tmp/my studies.db",
                            best_config_={"learner": "linear", "linear.C": 1.0},
                            metric_="roc_auc", best_score_=0.9, fit_seconds_=1.0,
                            study_name_="x; touch PWNED.csv-abc")
    print_summary(model)
    out = capsys.readouterr().out
    assert "--study 'x; touch PWNED.csv-abc'" in out
    assert "--storage 'sqlite:////tmp/my studies.db'" in out


@pytest.mark.parametrize("flag, value", [("--trials", "-1"), ("--time-budget", "inf"),
                                         ("--time-budget", "0")])
def test_command_line_refuses_bad_budgets_in_one_line(tmp_path, clf_frame, flag, value):
    from .test_cli import run

    data = tmp_path / "train.csv"
    clf_frame.to_csv(data, index=False)
    out = run("fit", data, "--target", "target", flag, value, "--storage", "memory")
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and "Traceback" not in out.stderr


@pytest.mark.parametrize("dtype, base", [("uint64", 2**64 - 100), ("int64", 2**63 - 100),
                                         ("int64", -2**63), ("UInt64", 2**64 - 100)])
def test_integers_beyond_float_precision_keep_their_values(dtype, base):
    from automl_meta.data.plan import ColumnPlan

    values = [base + i for i in range(0, 60, 2)] * 2
    frame = pd.DataFrame({"big": pd.Series(values, dtype=dtype), "x": np.arange(60.0)})
    with pytest.warns(UserWarning, match=r"beyond 2\*\*53 shifted"):
        plan = ColumnPlan().fit(frame)
    assert "big" not in plan.dropped_
    out = plan.transform(frame)
    # 30 distinct values, in order and evenly spaced, as given.
    assert len(np.unique(out["big"])) == 30
    assert np.array_equal(out["big"].to_numpy(), np.array(values, dtype=object) - base)
    # New rows below the training minimum come out negative, not wrapped around.
    if dtype == "int64" and base > 0:
        lower = pd.DataFrame({"big": pd.Series([base - 5], dtype=dtype), "x": [0.0]})
        assert plan.transform(lower)["big"].tolist() == [-5.0]


def test_a_column_mixing_aware_and_naive_datetimes_is_kept_as_a_date(catch_warnings):
    from automl_meta.data.plan import ColumnPlan

    stamps = [pd.Timestamp("2024-01-01") + pd.Timedelta(days=i) for i in range(40)]
    mixed = [s.tz_localize("Europe/Paris") if i % 2 else s for i, s in enumerate(stamps)]
    frame = pd.DataFrame({"when": pd.Series(mixed, dtype=object), "x": np.arange(40.0)})
    plan = ColumnPlan().fit(frame)
    assert plan.datetime_ == ["when"] and "when" not in plan.dropped_
    assert any("mixes time-zone-aware and naive" in m for m in data_warnings(catch_warnings))
    days = plan.transform(frame)["when__epoch_days"].to_numpy()
    naive_day = (stamps[0] - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    assert days[0] == naive_day  # naive read as UTC
    # Paris is one hour ahead of UTC in winter: the aware stamp is an hour earlier in UTC.
    assert days[1] == pytest.approx(naive_day + 1 - 1 / 24)


def test_a_trial_failed_by_the_heartbeat_check_has_a_reason():
    """Optuna's stale-trial check fails a dead worker's trial and it cannot be annotated
    afterwards; every reader (leaderboard, report, knowledge base) calls it "heartbeat"."""
    import optuna

    from automl_meta.attributes import failure_reason
    from automl_meta.search.study import leaderboard

    study = optuna.create_study()
    stale = study.ask()
    study.tell(stale, state=optuna.trial.TrialState.FAIL)  # as fail_stale_trials does
    own = study.ask()
    own.set_user_attr("failure_reason", "timeout")
    study.tell(own, state=optuna.trial.TrialState.FAIL)
    study.enqueue_trial({})
    done = study.ask()
    study.tell(done, 1.0)
    reasons = [failure_reason(t) for t in study.trials]
    assert reasons == ["heartbeat", "timeout", None]
    board = leaderboard(study).set_index("trial")
    assert board.loc[0, "failure_reason"] == "heartbeat"
