"""Reports: the study report, the knowledge-base report, the CLI, and a real browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import optuna
import pytest
from sklearn.datasets import make_classification

from automl_meta import AutoMLClassifier
from automl_meta.exceptions import StorageError
from automl_meta.report import find_study, write_knowledge_report, write_study_report
from automl_meta.report.page import dashboards_dir

CLI = [str(Path(sys.executable).parent / "automl-meta")]
LEARNERS = ["linear", "knn", "random_forest"]
# The knowledge base the repository ships (tests otherwise default to an empty one).
SHIPPED = f"sqlite:///{Path(__file__).resolve().parents[1] / 'studies' / 'knowledge.db'}"
SECTIONS = ("history", "warm_start", "families", "ensemble", "leaderboard", "importances",
            "meta_map", "warm_vs_cold", "failures")


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A storage holding a warm search (from the shipped knowledge base) and a cold one of
    the same new dataset, plus a trial that failed."""
    folder = tmp_path_factory.mktemp("report")
    url = f"sqlite:///{folder / 'studies.db'}"
    X, y = make_classification(n_samples=240, n_features=8, n_informative=4,
                               random_state=123)
    common = dict(storage=url, learners=LEARNERS, isolation="none", verbose=0)
    cold = AutoMLClassifier(n_trials=4, warm_start=False, study_name="cold", **common).fit(X, y)
    warm = AutoMLClassifier(n_trials=8, knowledge=SHIPPED, sampler="tpe",
                            study_name="warm", **common).fit(X, y)
    study = warm.study_
    study.add_trial(optuna.trial.create_trial(
        state=optuna.trial.TrialState.FAIL, params={"learner": "knn"},
        distributions={"learner": optuna.distributions.CategoricalDistribution(LEARNERS)},
        user_attrs={"learner": "knn", "failure_reason": "timeout",
                    "failure_message": "no result within 5.0 s", "origin": "sampler"}))
    return {"url": url, "warm": warm, "cold": cold, "folder": folder}


@pytest.fixture(scope="module")
def knowledge_page(tmp_path_factory) -> Path:
    return write_knowledge_report(SHIPPED, tmp_path_factory.mktemp("kb") / "kb.html")


@pytest.fixture(scope="module")
def report_html(searched):
    path = write_study_report(searched["warm"].study_, searched["folder"] / "report.html")
    return path.read_text()


def _figure_json(page: str, section: str) -> str:
    """The source of one section (its figure's data and layout included)."""
    start = page.index(f'<section id="{section}">')
    return page[start:page.index("</section>", start)]


def test_study_report_has_every_section_and_works_offline(report_html):
    for section in SECTIONS:
        assert f'<section id="{section}">' in report_html, section
    # plotly.js is embedded (no CDN): no script, style sheet or image is fetched.
    assert not re.search(r"<script[^>]+src=", report_html)
    assert not re.search(r"<(link|img)[^>]+(href|src)=", report_html)
    assert len(report_html) > 3_000_000 and "Plotly.newPlot" in report_html


def test_report_says_what_the_warm_start_proposed_and_why(searched, report_html):
    study = searched["warm"].study_
    proposed = [t for t in study.trials if t.user_attrs.get("origin", "").startswith("warm")]
    assert len(proposed) == 8
    table = _figure_json(report_html, "warm_start")
    for t in proposed:
        source = t.user_attrs["warm_start_source"]
        words = {"surrogate": "a random candidate the surrogate ranked high",
                 "portfolio": "the greedy portfolio"}.get(source)
        assert (words or f"the best of {source.removeprefix('knn:')}") in table
        assert f"<td class=\"num\">{t.number}</td>" in table
    # The history marks the warm-start trials: a band over them and one trace per origin.
    history = _figure_json(report_html, "history")
    assert '"warm start"' in history and '"warm-start:' in history
    # The map highlights the nearest datasets the warm start learned from.
    near = study.user_attrs["nearest_datasets"]
    mapped = _figure_json(report_html, "meta_map")
    assert all(n["dataset"] in mapped for n in near) and "this dataset" in mapped
    # The summary names the best trial and its learner.
    best = study.best_trial
    assert f"The best is trial {best.number}, <b>{best.params['learner']}</b>" in report_html


def test_report_compares_warm_and_cold_and_lists_failures(searched, report_html):
    curves = _figure_json(report_html, "warm_vs_cold")
    assert "warm: warm" in curves and "cold: cold" in curves
    failures = _figure_json(report_html, "failures")
    assert "timeout" in failures and "no result within 5.0 s" in failures


def test_report_draws_the_benchmark_curves_when_given(searched, tmp_path):
    bench = tmp_path / "curves.json"
    bench.write_text(json.dumps({
        "methods": {"tpe_cold": [0.3, 0.2, 0.1], "full": [0.1, 0.05, 0.01]},
        "descriptions": {"tpe_cold": "TPE, cold", "full": "the full method"},
        "n_datasets": 7, "pool": "shared", "commit": "abc1234", "machine": "test"}))
    page = write_study_report(searched["warm"].study_, tmp_path / "r.html",
                              benchmark=tmp_path).read_text()
    section = _figure_json(page, "warm_vs_cold")
    assert "the full method" in section and "7 datasets held out" in section
    assert "commit abc1234" in section
    with pytest.raises(Exception, match="No warm-start benchmark curves"):
        write_study_report(searched["warm"].study_, tmp_path / "r2.html",
                           benchmark=tmp_path / "missing")


def test_find_study_picks_the_latest_or_names_the_choices(searched, tmp_path):
    assert find_study(searched["url"]).study_name == "warm"  # started last
    assert find_study(searched["url"], "cold").study_name == "cold"
    with pytest.raises(StorageError, match="No study 'nope'.*cold, warm"):
        find_study(searched["url"], "nope")
    missing = tmp_path / "missing.db"
    with pytest.raises(StorageError, match="No study database"):
        find_study(f"sqlite:///{missing}")
    assert not missing.exists()  # a reader never creates a database


def test_fit_writes_the_report_and_a_bad_path_is_a_warning(tmp_path):
    X, y = make_classification(n_samples=80, n_features=4, random_state=1)
    out = tmp_path / "sub" / "fit.html"
    model = AutoMLClassifier(n_trials=2, storage="memory", isolation="none", verbose=0,
                             report=str(out)).fit(X, y)
    assert model.report_path_ == str(out) and "<section id=\"history\">" in out.read_text()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.warns(UserWarning, match="could not be written"):
        model = AutoMLClassifier(n_trials=2, storage="memory", isolation="none", verbose=0,
                                 report=str(blocker / "r.html")).fit(X, y)
    assert model.report_path_ is None and model.predict(X[:2]).shape == (2,)


def test_knowledge_report_maps_every_stored_dataset(knowledge_page):
    from automl_meta.knowledge import KnowledgeBase

    page = knowledge_page.read_text()
    frame = KnowledgeBase(SHIPPED).datasets()
    mapped = _figure_json(page, "kb_map")
    for name in frame["dataset"].sample(10, random_state=0):
        # (plotly's HTML-safe JSON writes "/" as \u002f: R tables are "package/item")
        assert name.replace("/", "\\u002f") in mapped
    coverage = _figure_json(page, "kb_coverage")
    for family in ("linear", "lightgbm", "random_forest", "mlp"):
        assert family in coverage
    assert f"<div class=\"v\">{len(frame)}</div>" in page


def test_cli_report_and_knowledge_report(searched, tmp_path):
    out = subprocess.run([*CLI, "report", "--storage", searched["url"], "--study", "cold",
                          "--out", str(tmp_path / "cold.html")], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    assert "Open it in a browser: file://" in out.stdout
    assert "This was a cold search" in (tmp_path / "cold.html").read_text()
    out = subprocess.run([*CLI, "report", "--storage", f"sqlite:///{tmp_path / 'no.db'}"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.startswith("error: No study database")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return json.loads(r.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_cli_dashboard_serves_the_study_with_origins_and_failure_reasons(searched):
    port = _free_port()
    proc = subprocess.Popen([*CLI, "dashboard", "--storage", searched["url"], "--port",
                             str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        studies = _get_json(f"http://127.0.0.1:{port}/api/studies")["study_summaries"]
        ids = {s["study_name"]: s["study_id"] for s in studies}
        assert set(ids) == {"warm", "cold"}
        trials = _get_json(f"http://127.0.0.1:{port}/api/studies/{ids['warm']}?after=0"
                           )["trials"]
        attrs = [{a["key"]: a["value"] for a in t["user_attrs"]} for t in trials]
        assert attrs[0]["origin"].startswith("warm-start:")
        assert attrs[-1]["failure_reason"] == "timeout"
    finally:
        proc.terminate()
        try:
            output = proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:  # a loaded machine; the server ignored SIGTERM
            proc.kill()
            output = proc.communicate()[0]
    assert f"Open http://127.0.0.1:{port}/" in output


def test_layout_lists_the_sections_the_code_builds():
    layout = json.loads((dashboards_dir() / "layout.json").read_text())
    assert tuple(s["id"] for s in layout["study"]) == SECTIONS
    assert all(s["title"] and s["caption"] for kind in ("study", "knowledge")
               for s in layout[kind])


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.parametrize("kind", ["study", "knowledge"])
def test_reports_render_in_headless_chromium(kind, searched, report_html, knowledge_page,
                                            tmp_path):
    """Open the report in a real browser: every figure draws, no JavaScript error."""
    if CHROMIUM is None:
        message = ("Chromium is not installed (Debian package `chromium`; .ci/run installs "
                   "it): the real-browser test cannot run")
        if os.environ.get("AUTOML_META_REQUIRE_BROWSER"):
            pytest.fail(message + ", and AUTOML_META_REQUIRE_BROWSER is set.")
        pytest.skip(message)
    page = searched["folder"] / "report.html" if kind == "study" else knowledge_page
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--hide-scrollbars",
             "--virtual-time-budget=15000"]
    dom = subprocess.run([*flags, f"--user-data-dir={tmp_path / 'profile1'}", "--dump-dom",
                          page.as_uri()], capture_output=True, text=True, timeout=120)
    match = re.search(r'<pre id="report-status"[^>]*>([^<]*)</pre>', dom.stdout)
    assert match and match.group(1), f"no status written; stderr: {dom.stderr[-2000:]}"
    status = json.loads(match.group(1))
    assert status["errors"] == []
    assert status["figures"] == page.read_text().count('class="plotly-graph-div"') >= 3
    assert status["rendered"] == status["figures"] and status["missing"] == []
    shot = tmp_path / f"{kind}.png"
    subprocess.run([*flags, f"--user-data-dir={tmp_path / 'profile2'}",
                    "--window-size=1100,2400", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
