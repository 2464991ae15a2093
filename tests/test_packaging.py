"""The wheel carries what the runtime reads: the shipped knowledge base, its warm-start
artifact, the meta-learned initialisation and the report layout; installed outside a
checkout, the package finds them there. The offline tooling (the corpus build,
meta-training, the benchmarks) is not in it, and its commands say so."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = {"studies": ["knowledge.db", "warm_start.json.gz", "meta_init.pt"],
           "dashboards": ["page.html", "layout.json"]}


def test_the_shipped_folders_are_linked_into_the_package():
    for folder, names in SHIPPED.items():
        for name in names:
            link = ROOT / "automl_meta" / "_shipped" / folder / name
            assert link.resolve() == (ROOT / folder / name).resolve(), link


@pytest.mark.skipif(importlib.util.find_spec("setuptools") is None,
                    reason="building the wheel needs setuptools in this environment")
def test_an_installed_wheel_finds_its_artifacts(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", str(ROOT), "-w", str(tmp_path)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("automl_meta-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for folder, files in SHIPPED.items():
        for name in files:
            assert f"automl_meta/_shipped/{folder}/{name}" in names
    # the offline tooling stays in the checkout
    for tooling in ("benchmarks", "corpus", "meta_learning"):
        assert not any(n.startswith(f"automl_meta/{tooling}/") for n in names), tooling
    assert "automl_meta/search/driver.py" in names
    # A fresh virtual environment outside the checkout, the wheel installed into it; the
    # dependencies come from this environment's site-packages as a plain path entry, so
    # its editable install of the checkout (a .pth hook there) is not loaded.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print("
                                "sysconfig.get_paths()['purelib'])"], check=True,
                               capture_output=True, text=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)
    installed = site / "automl_meta"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    script = ("from automl_meta.knowledge.storage import shipped_knowledge_url\n"
              "from automl_meta.learners.torch.location import shipped_initialisation\n"
              "from automl_meta.report.page import dashboards_dir\n"
              "print(shipped_knowledge_url()); print(shipped_initialisation());"
              " print(dashboards_dir())")
    out = subprocess.run([str(python), "-c", script], cwd=tmp_path, capture_output=True,
                         text=True, check=True, env=env)
    lines = out.stdout.split()
    assert lines == [f"sqlite:///{installed}/_shipped/studies/knowledge.db",
                     f"{installed}/_shipped/studies/meta_init.pt",
                     f"{installed}/_shipped/dashboards"]
    # and a user's first fit from it: warm-started from the shipped knowledge base, an
    # mlp_meta trial from the shipped initialisation, the report from the shipped layout
    fit = ("import automl_meta\n"
           "from sklearn.datasets import load_breast_cancer\n"
           "X, y = load_breast_cancer(return_X_y=True)\n"
           "m = automl_meta.AutoMLClassifier(n_trials=3, learners=['mlp_meta', 'linear'],"
           " storage='memory', report='report.html', verbose=0).fit(X, y)\n"
           "board = m.leaderboard()\n"
           "print(automl_meta.__file__)\n"
           "print(sorted(set(board['origin'])))\n"
           "print(sorted(set(board.loc[board['state'] == 'COMPLETE', 'learner'])))\n"
           "print(m.report_path_)\n")
    out = subprocess.run([str(python), "-c", fit], cwd=tmp_path, capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    package, origins, learners, report = out.stdout.splitlines()[-4:]
    assert package.startswith(str(installed))  # the installed copy, not the checkout
    assert "warm-start" in origins, origins
    assert "mlp_meta" in learners, learners
    assert (tmp_path / "report.html").stat().st_size > 10_000 and report.endswith("report.html")
    build = subprocess.run([str(venv / "bin" / "automl-meta"), "knowledge", "build"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert build.returncode == 2, build.stderr[-2000:]
    assert "offline tooling: it ships with a source checkout" in build.stderr
