"""A fitted model in the terminal: its leaderboard, its best model and where its study is
(what ``automl-meta fit`` and ``automl-meta demo`` print)."""

from __future__ import annotations

from shlex import quote
from typing import Any

__all__ = ["print_leaderboard", "print_summary"]


def print_leaderboard(model: Any, top: int = 10) -> None:
    """Print the best ``top`` trials of a fitted model's study."""
    import pandas as pd

    board = model.leaderboard()
    shown = board.head(top).copy()
    from ..search_space import format_params

    shown["params"] = shown["params"].map(format_params)
    shown["score"] = shown["score"].map(lambda v: "" if pd.isna(v) else f"{v:.4f}")
    shown["fit_time"] = shown["fit_time"].map(lambda v: "" if pd.isna(v) else f"{v:.2f}s")
    shown["failure_reason"] = shown["failure_reason"].fillna("")
    shown["origin"] = shown["origin"].fillna("")
    shown["params"] = shown["params"].str.slice(0, 70)
    n_ok = int((board["state"] == "COMPLETE").sum())
    print(f"\nLeaderboard ({model.metric_}, mean of cross-validation folds; "
          f"{n_ok} of {len(board)} trials completed):")
    print(shown.to_string(index=False))
    done = board[board["state"] == "COMPLETE"]
    if done["learner"].nunique() > 1:
        families = done.groupby("learner", sort=False).agg(
            best=("score", "first"), trials=("trial", "size"), mean_fit=("fit_time", "mean"))
        families["best"] = families["best"].map(lambda v: f"{v:.4f}")
        families["mean_fit"] = families["mean_fit"].map(lambda v: f"{v:.2f}s")
        print("\nBest per learner family:")
        print(families.to_string())


def print_summary(model: Any) -> None:
    """Print the best model, where the study is stored and how to open it."""
    from ..search_space import format_params, learner_params

    storage = model.storage_url_
    print(f"\nBest trial: {model.best_config_['learner']} "
          f"({format_params(learner_params(model.best_config_))})")
    print(f"CV {model.metric_}: {model.best_score_:.4f}   fit took {model.fit_seconds_:.1f} s")
    members = getattr(model, "ensemble_", None)
    if members:
        record = getattr(model, "ensemble_record_", {}) or {}
        shown = ", ".join(f"{m['learner']} #{m['trial']} {m['weight']:.2f}" for m in members)
        scores = ""
        if "oof_score" in record:
            scores = (f" (out-of-fold {model.metric_} {record['oof_score']:.4f}, best "
                      f"single trial {record['best_single_oof_score']:.4f})")
        print(f"Predicts with an ensemble of {len(members)} trial(s){scores}: {shown}")
    print(f"Study: {model.study_name_!r} in {storage}")
    if storage.startswith(("sqlite", "postgresql", "mysql")):
        from ..knowledge.storage import default_storage_url

        # shell-quoted: a study named after a data file "x; touch y.csv" must paste safely
        where = "" if storage == default_storage_url() else f" --storage {quote(storage)}"
        print(f"Report (HTML):       automl-meta report{where} --study "
              f"{quote(model.study_name_)}")
        print(f"optuna-dashboard:    automl-meta dashboard{where}")
        print(f"All stored studies:  automl-meta studies{where}")
