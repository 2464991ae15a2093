"""The automl-meta command line, run as a user would (a subprocess per command)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from automl_meta.cli import build_parser

CLI = [str(Path(sys.executable).parent / "automl-meta")]


def run(*args, cwd=None):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("command", ["fit", "predict", "studies", "demo", "report",
                                     "dashboard"])
def test_every_subcommand_has_help(command):
    out = run(command, "--help")
    assert out.returncode == 0
    assert "usage: automl-meta " + command in out.stdout


def test_parser_lists_all_commands():
    help_text = build_parser().format_help()
    for command in ("fit", "predict", "studies", "demo", "report", "dashboard"):
        assert command in help_text


def test_fit_predict_studies_round_trip(tmp_path, clf_frame):
    data = tmp_path / "train.csv"
    clf_frame.to_csv(data, index=False)
    storage = f"sqlite:///{tmp_path / 'cli.db'}"
    model = tmp_path / "model.joblib"
    report = tmp_path / "fit_report.html"
    out = run("fit", data, "--target", "target", "--trials", 3, "--storage", storage,
              "--study", "cli-study", "--out", model, "--verbose", 0, "--report", report)
    assert out.returncode == 0, out.stderr
    assert "Leaderboard (roc_auc" in out.stdout
    assert "Best trial:" in out.stdout
    assert f"automl-meta dashboard --storage {storage}" in out.stdout
    assert f"Report written to {report}" in out.stdout and report.is_file()
    assert model.is_file()

    preds = tmp_path / "preds.csv"
    out = run("predict", model, data, "--target", "target", "--proba", "--out", preds)
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(preds)
    assert list(frame.columns) == ["prediction", "proba_no", "proba_yes"]
    assert len(frame) == len(clf_frame) and set(frame["prediction"]) <= {"yes", "no"}
    # labelled data without --target: the model knows its target column and ignores it
    out = run("predict", model, data, "--out", preds)
    assert out.returncode == 0, out.stderr
    assert "Ignoring the column 'target'" in out.stderr
    assert pd.read_csv(preds)["prediction"].tolist() == frame["prediction"].tolist()

    out = run("studies", "--storage", storage)
    assert out.returncode == 0, out.stderr
    assert "cli-study" in out.stdout and "classification" in out.stdout
    line = next(ln for ln in out.stdout.splitlines() if "cli-study" in ln)
    assert line.split()[-2] == "3"  # trial count


@pytest.mark.parametrize("args,message", [
    (["fit", "missing.csv", "--target", "y"], "Data file not found: 'missing.csv'"),
    (["predict", "no-model.joblib", "x.csv"], "Model file not found"),
])
def test_errors_are_one_line_without_traceback(tmp_path, args, message):
    out = run(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_target_lists_columns(tmp_path, clf_frame):
    data = tmp_path / "train.csv"
    clf_frame.to_csv(data, index=False)
    out = run("fit", data, "--target", "nope", "--trials", 1)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "'nope' is not in" in out.stderr and "'num2'" in out.stderr


def test_garbage_storage_file_is_refused_not_overwritten(tmp_path, clf_frame):
    db = tmp_path / "broken.db"
    db.write_bytes(b"this is not sqlite" * 10)
    out = run("studies", "--storage", f"sqlite:///{db}")
    assert out.returncode == 2 and "is not a SQLite database" in out.stderr
    assert db.read_bytes() == b"this is not sqlite" * 10


def test_demo_uses_default_storage_under_studies(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTOML_META_STORAGE")
    out = run("demo", "--time-budget", 3, "--verbose", 0, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "studies" / "automl_meta.db").is_file()
    assert "breast_cancer" in out.stdout
    assert "automl-meta report --study breast_cancer-" in out.stdout  # the default storage


def test_ctrl_c_stops_the_search_and_keeps_the_best(tmp_path, clf_frame):
    import signal
    import time

    import optuna

    data = tmp_path / "train.csv"
    clf_frame.to_csv(data, index=False)
    storage = f"sqlite:///{tmp_path / 'int.db'}"
    proc = subprocess.Popen(
        [*CLI, "fit", str(data), "--target", "target", "--time-budget", "120", "--storage",
         storage, "--study", "interrupted", "--learners", "linear", "mlp", "--verbose", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until a few trials have finished
        time.sleep(0.5)
        try:
            study = optuna.load_study(study_name="interrupted", storage=storage)
        except KeyError:
            continue
        trials = study.trials
        if (sum(t.state.name == "COMPLETE" for t in trials) >= 3
                and trials[-1].state.name == "RUNNING"):
            break
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"fit did not stop within 120 s of Ctrl-C; its log:\n{err[-3000:]}")
    assert proc.returncode == 0, err
    assert "Best trial:" in out
    trials = optuna.load_study(study_name="interrupted", storage=storage).trials
    # The signal is sent while a trial runs, but that trial may finish before it lands:
    # then no trial is cut off. Either way none is left RUNNING, and the only failed
    # trial is the interrupted one (tests/test_scale_out.py cuts a trial off for certain).
    assert not [t.number for t in trials if t.state.name == "RUNNING"]
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert [t.user_attrs["failure_reason"] for t in failed] in ([], ["interrupted"])
    assert not failed or failed[0].number == trials[-1].number
    assert sum(t.state.name == "COMPLETE" for t in trials) >= 3


def test_knowledge_list_export_import(tmp_path, clf_frame):
    data = tmp_path / "train.csv"
    clf_frame.to_csv(data, index=False)
    source = f"sqlite:///{tmp_path / 'a.db'}"
    assert run("fit", data, "--target", "target", "--trials", 1, "--storage", source,
               "--verbose", 0).returncode == 0
    out = run("knowledge", "list", "--storage", source)
    assert out.returncode == 0 and "Datasets in" in out.stdout and "train" in out.stdout
    exported = tmp_path / "shared.db"
    out = run("knowledge", "export", exported, "--storage", source)
    assert out.returncode == 0 and "Exported 1 studies" in out.stdout
    target = f"sqlite:///{tmp_path / 'b.db'}"
    assert "Imported 1 studies" in run("knowledge", "import", exported, "--storage",
                                       target).stdout
    assert "Imported 0 studies" in run("knowledge", "import", exported, "--storage",
                                       target).stdout
    out = run("knowledge", "import", tmp_path / "missing.db", "--storage", target)
    assert out.returncode == 2 and "not found" in out.stderr


def test_shipped_knowledge_base_is_found_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("AUTOML_META_KNOWLEDGE")
    shipped = Path(__file__).resolve().parents[1] / "studies" / "knowledge.db"
    out = run("knowledge", "list", cwd=tmp_path)
    assert out.returncode == 0
    assert f"Datasets in sqlite:///{shipped.as_posix()}: 320" in out.stdout
    assert "wine" in out.stdout and "classification" in out.stdout
    assert not (tmp_path / "studies").exists()


def test_warm_start_build_show_and_suggest(tmp_path):
    from sklearn.datasets import load_iris

    project = f"sqlite:///{tmp_path / 'project.db'}"
    for loader, name in ((load_iris, "iris"),):
        X, y = loader(return_X_y=True, as_frame=True)
        frame = X.assign(target=y)
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        out = run("fit", tmp_path / f"{name}.csv", "--target", "target", "--trials", "3",
                  "--storage", project, "--no-warm-start", "--verbose", "0")
        assert out.returncode == 0, out.stderr
    out = run("warm-start", "show", "--knowledge", project)
    assert out.returncode == 1 and "build it with" in out.stdout
    out = run("warm-start", "build", "--knowledge", project)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "project.warm_start.json.gz").exists()
    assert "classification: 1 datasets" in out.stdout
    out = run("warm-start", "show", "--knowledge", project)
    assert out.returncode == 0 and "current" in out.stdout
    out = run("suggest", tmp_path / "iris.csv", "--target", "target", "-k", "2",
              "--knowledge", project, "--json", "--time-budget", "30", "--cv", "3")
    assert out.returncode == 0, out.stderr
    configs = json.loads(out.stdout)
    assert len(configs) == 2 and all("learner" in c for c in configs)


def test_concurrent_fits_on_one_study_name_each_add_their_trials(tmp_path, clf_frame):
    """A study name shared by fits running at once: each adds its own --trials (the
    issue's case ended with 7 trials for two fits of 6, both reporting success)."""
    data = tmp_path / "train.csv"
    clf_frame.to_csv(data, index=False)
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    args = [*CLI, "fit", str(data), "--target", "target", "--trials", "3", "--storage",
            storage, "--study", "shared", "--learners", "linear", "knn", "--verbose", "0"]
    fits = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    for fit in fits:
        _, err = fit.communicate(timeout=300)
        assert fit.returncode == 0, err
    import optuna

    study = optuna.load_study(study_name="shared", storage=storage)
    assert len(study.trials) == 6
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
