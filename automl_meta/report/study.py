"""The report of one search: what was tried, what the warm start proposed, and why."""

from __future__ import annotations

import json
import logging
import math
import os
from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from .._optuna import backend, frozen_study_id, study_storage
from ..attributes import (
    DEFAULT,
    FAILURE_MESSAGE,
    FIT_TIME,
    LEARNER,
    ORIGIN,
    PREDICTED_SCORE,
    PREDICTED_SECONDS,
    SAMPLER,
    STUDY_DATASET,
    STUDY_ENSEMBLE,
    STUDY_FINGERPRINT,
    STUDY_META_FEATURES,
    STUDY_METRIC,
    STUDY_N_CLASSES,
    STUDY_N_FEATURES,
    STUDY_N_ROWS,
    STUDY_NEAREST_DATASETS,
    STUDY_TASK,
    STUDY_WARM_START,
    WARM_START,
    WARM_START_SOURCE,
    failure_reason,
    warm_start_origin,
)
from ..exceptions import AutoMLError, StorageError
from ..knowledge import KnowledgeBase
from ..knowledge.storage import get_storage, shipped_knowledge_url, storage_url
from ..search.study import leaderboard
from ..search_space import format_params, learner_params
from .page import Section, escape, note, render, table, write

logger = logging.getLogger(__name__)

# Where the warm-start benchmark's curves are looked for when no --benchmark is given.
DEFAULT_BENCHMARK = Path("benchmarks") / "warm_start" / "curves.json"
ORIGIN_COLOURS = {
    warm_start_origin("same-dataset"): "#1e3a8a",
    warm_start_origin("knn"): "#2563eb",
    warm_start_origin("surrogate"): "#7c3aed",
    warm_start_origin("portfolio"): "#0891b2",
    DEFAULT: "#d97706",
    SAMPLER: "#16a34a",
}
MIN_IMPORTANCE_TRIALS = 5  # completed trials a family needs for fANOVA importances


def find_study(storage: Any = None, study_name: str | None = None) -> optuna.Study:
    """Load ``study_name`` from ``storage`` (default storage if ``None``), or, without a
    name, the most recently started automl-meta study there (one that records a dataset).

    Parameters
    ----------
    storage : str or optuna storage, optional
        Where to look (default: the default study storage).
    study_name : str, optional
        The study (default: the newest automl-meta study there).
    """
    store = get_storage(storage, create=False)
    summaries = optuna.get_all_study_summaries(store, include_best_trial=False)
    if study_name is not None:
        if study_name not in {s.study_name for s in summaries}:
            names = ", ".join(sorted(s.study_name for s in summaries)[:20]) or "none"
            raise StorageError(f"No study {study_name!r} in {storage_url(storage)}; the "
                               f"studies there: {names}.")
        return optuna.load_study(study_name=study_name, storage=store)
    ours = [s for s in summaries if STUDY_FINGERPRINT in s.user_attrs and s.n_trials > 0]
    if not ours:
        raise StorageError(f"No automl-meta study with trials in {storage_url(storage)}. "
                           "Run `automl-meta demo` or `automl-meta fit` first.")
    latest = max(ours, key=lambda s: (s.datetime_start or pd.Timestamp.min.to_pydatetime(),
                                      frozen_study_id(s)))
    return optuna.load_study(study_name=latest.study_name, storage=store)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _params(trial: FrozenTrial) -> str:
    if "learner" not in trial.params:  # stopped before its configuration was sampled
        return ""
    return format_params(learner_params(trial.params), 3)


def _learner(trial: FrozenTrial) -> str:
    return str(trial.params.get("learner", trial.user_attrs.get(LEARNER, "?")))


def _origin(trial: FrozenTrial) -> str:
    return str(trial.user_attrs.get(ORIGIN, SAMPLER))


def _proposed(trial: FrozenTrial) -> bool:
    """Whether the warm start proposed the trial's configuration."""
    return _origin(trial).startswith(WARM_START)


def _learned_from(trial: FrozenTrial) -> str:
    """Where a warm-start proposal came from, in words."""
    source = str(trial.user_attrs.get(WARM_START_SOURCE, ""))
    if source.startswith("knn:"):
        return f"the best of {source[4:]}, a nearest dataset"
    if source.startswith("same-dataset:"):
        return f"one of the best stored for this very dataset ({source[13:]})"
    return {"surrogate": "a random candidate the surrogate ranked high",
            "portfolio": "the greedy portfolio"}.get(source, source)


class StudyReport:
    """Build the sections of one study's report.

    Parameters
    ----------
    study : optuna.Study
        A study written by ``fit``.
    knowledge : str or list of str, optional
        Knowledge base storages for the meta-feature map; default: those the warm start
        recorded, else the shipped knowledge base.
    benchmark : path, optional
        ``curves.json`` of the warm-start benchmark (or its folder); default
        ``benchmarks/warm_start/curves.json`` if it exists.
    """

    def __init__(self, study: optuna.Study, knowledge: Any = None,
                 benchmark: str | os.PathLike | None = None):
        self.study = study
        # Optuna wraps database storages in a cache; the URL is the wrapped one's.
        self.storage = backend(study_storage(study))
        self.attrs = study.user_attrs
        self.trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
        self.complete = [t for t in self.trials if t.state == TrialState.COMPLETE
                         and t.value is not None and math.isfinite(t.value)]
        self.failed = [t for t in self.trials if t.state == TrialState.FAIL]
        self.maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
        self.metric = str(self.attrs.get(STUDY_METRIC, "score"))
        self.knowledge = knowledge
        self.benchmark = benchmark

    # ------------------------------------------------------------ helpers
    def _better(self, a: float, b: float) -> bool:
        return a > b if self.maximize else a < b

    def best(self) -> FrozenTrial | None:
        best = None
        for t in self.complete:
            if best is None or self._better(t.value, best.value):  # type: ignore[arg-type]
                best = t
        return best

    @cached_property
    def _ranked_values(self) -> list[float]:
        return sorted((t.value for t in self.complete), reverse=self.maximize)  # type: ignore

    def _rank(self, trial: FrozenTrial) -> int:
        return self._ranked_values.index(trial.value) + 1  # type: ignore[arg-type]

    def _best_so_far(self, trials: list[FrozenTrial]) -> tuple[list[int], list[float]]:
        """Trial numbers and the best value up to each (completed trials, in order)."""
        xs, ys, best = [], [], None
        for t in trials:
            if best is None or self._better(t.value, best):  # type: ignore[arg-type]
                best = t.value
            xs.append(t.number)
            ys.append(best)
        return xs, ys  # type: ignore[return-value]

    # ------------------------------------------------------------ summary
    def summary(self) -> str:
        a = self.attrs
        best = self.best()
        facts = [
            ("dataset", a.get(STUDY_DATASET, "?")), ("task", a.get(STUDY_TASK, "?")),
            ("rows × columns",
             f"{a.get(STUDY_N_ROWS, '?')} × {a.get(STUDY_N_FEATURES, '?')}"),
            ("metric", self.metric),
            ("trials", f"{len(self.complete)} done, {len(self.failed)} failed"),
            ("best score", _fmt(best.value) if best else "none"),
            ("best learner", _learner(best) if best else "none"),
            ("warm start", "on" if a.get(STUDY_WARM_START, {}).get("enabled") else "off"),
        ]
        if a.get(STUDY_TASK) == "classification":
            facts.insert(3, ("classes", a.get(STUDY_N_CLASSES, "?")))
        boxes = "".join(f'<div class="fact"><div class="k">{escape(k)}</div>'
                        f'<div class="v">{escape(v)}</div></div>' for k, v in facts)
        lines = []
        families = Counter(_learner(t) for t in self.trials)
        lines.append(
            f"automl-meta ran {len(self.trials)} trials over {len(families)} learner "
            f"families ({escape(', '.join(f'{k} ×{v}' for k, v in families.most_common()))}),"
            f" each scored by {a.get('cv_folds', '?')}-fold cross-validation on "
            f"{escape(self.metric)} ({'higher' if self.maximize else 'lower'} is better).")
        if best is not None:
            came = {DEFAULT: "the family's default configuration",
                    SAMPLER: "the sampler (after the first trials)"}.get(
                _origin(best), f"the warm start: {_learned_from(best)}")
            lines.append(
                f"The best is trial {best.number}, <b>{escape(_learner(best))}</b> "
                f"({escape(_params(best)) or 'defaults'}) with {escape(self.metric)} "
                f"{_fmt(best.value)}; its configuration came from {escape(came)}.")
        warm = a.get(STUDY_WARM_START, {})
        proposed = [t for t in self.trials if _proposed(t)]
        if warm.get("enabled"):
            near = a.get(STUDY_NEAREST_DATASETS) or []
            names = ", ".join(f"{n['dataset']} ({n['distance']:.2f})" for n in near[:5])
            kinds = Counter(_origin(t).split(":")[-1] for t in proposed)
            ok = [t for t in proposed if t in self.complete]
            best_warm = min((self._rank(t) for t in ok), default=None)
            lines.append(
                f"The warm start learned from {warm.get('n_datasets', '?')} past datasets. "
                f"The nearest to this one in meta-feature space (distance in scaled units): "
                f"{escape(names) or 'none recorded'}. It proposed the first {len(proposed)} "
                f"trials ({escape(', '.join(f'{v} {k}' for k, v in kinds.most_common()))})"
                + (f"; the best of them ranks {best_warm} of {len(self.complete)}."
                   if best_warm else "."))
        else:
            lines.append("This was a cold search: each learner family's defaults first, "
                         "then the sampler (no knowledge base was used to propose trials).")
        if self.failed:
            reasons = Counter(str(failure_reason(t))
                              for t in self.failed)
            lines.append(f"{len(self.failed)} trial{'s' if len(self.failed) > 1 else ''} "
                         "failed ("
                         f"{escape(', '.join(f'{k} ×{v}' for k, v in reasons.most_common()))}"
                         "); the search went on without them.")
        items = "".join(f"<li>{line}</li>" for line in lines)
        return f'<div class="facts">{boxes}</div><ul>{items}</ul>'

    # ------------------------------------------------------------ figures
    def history(self) -> Section:
        import plotly.graph_objects as go

        fig = go.Figure()
        if not self.trials:
            return Section(html=note("The study has no trials yet."))
        values = [float(t.value) for t in self.complete if t.value is not None]
        floor = (min(values) if self.maximize else max(values)) if values else 0.0
        warm_numbers = [t.number for t in self.trials if _proposed(t)]
        if warm_numbers:
            fig.add_vrect(x0=min(warm_numbers) - 0.5, x1=max(warm_numbers) + 0.5,
                          fillcolor="#dbeafe", opacity=0.5, line_width=0, layer="below",
                          annotation_text="warm start", annotation_position="top left")
        groups: dict[str, list[FrozenTrial]] = {}
        for t in self.complete:
            groups.setdefault(_origin(t), []).append(t)
        for origin, trials in sorted(groups.items()):
            fig.add_trace(go.Scatter(
                x=[t.number for t in trials], y=[t.value for t in trials], mode="markers",
                name=origin, marker={"size": 9, "color": ORIGIN_COLOURS.get(origin, "#6b7280"),
                                     "line": {"width": 0.5, "color": "white"}},
                customdata=[[_learner(t), _params(t)[:120],
                             str(t.user_attrs.get(WARM_START_SOURCE, "")),
                             _fmt(t.user_attrs.get(FIT_TIME), 3)] for t in trials],
                hovertemplate=("trial %{x}: %{y:.4f}<br>%{customdata[0]}<br>"
                               "%{customdata[1]}<br>source %{customdata[2]}<br>"
                               "fit %{customdata[3]} s<extra>" + origin + "</extra>")))
        if self.failed:
            fig.add_trace(go.Scatter(
                x=[t.number for t in self.failed], y=[floor] * len(self.failed),
                mode="markers", name="failed",
                marker={"symbol": "x", "size": 9, "color": "#9ca3af"},
                customdata=[[_learner(t), str(failure_reason(t)),
                             str(t.user_attrs.get(FAILURE_MESSAGE, ""))[:160]]
                            for t in self.failed],
                hovertemplate=("trial %{x} failed: %{customdata[1]}<br>%{customdata[0]}"
                               "<br>%{customdata[2]}<extra></extra>")))
        if self.complete:
            xs, ys = self._best_so_far(self.complete)
            xs.append(self.trials[-1].number)
            ys.append(ys[-1])
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="best so far",
                                     line={"shape": "hv", "color": "#111827", "width": 2},
                                     hoverinfo="skip"))
        if len(values) >= 5:  # a few very bad trials must not flatten the rest
            q = np.quantile(values, 0.2 if self.maximize else 0.8)
            top, low = max(values), min(values)
            lo, hi = (q, top) if self.maximize else (low, q)
            if (top - low) > 3 * (hi - lo) > 0:
                pad = 0.25 * (hi - lo)
                fig.update_yaxes(range=[lo - pad, hi + pad])
                fig.add_annotation(text="the worst trials lie beyond the axis; the "
                                   "autoscale button shows all", showarrow=False, xref="paper",
                                   yref="paper", x=0, y=1.07, xanchor="left",
                                   font={"size": 11, "color": "#52606d"})
        fig.update_layout(template="plotly_white", height=400, xaxis_title="trial",
                          yaxis_title=self.metric, legend={"orientation": "h", "y": -0.2},
                          margin={"t": 30, "l": 60, "r": 20, "b": 40})
        return Section(figure=fig)

    def warm_start(self) -> Section | None:
        proposed = [t for t in self.trials if _proposed(t)]
        if not self.attrs.get(STUDY_WARM_START, {}).get("enabled") or not proposed:
            return None
        rows = []
        for t in proposed:
            predicted = t.user_attrs.get(PREDICTED_SCORE)
            done = t in self.complete
            rows.append({
                "trial": t.number, "learner": _learner(t),
                "proposed by": _origin(t).split(":", 1)[-1],
                "learned from": _learned_from(t),
                "predicted percentile": "" if predicted is None else f"{100 * predicted:.0f}",
                self.metric: _fmt(t.value) if done else
                f"failed: {t.user_attrs.get('failure_reason', '?')}",
                "rank in study": f"{self._rank(t)} of {len(self.complete)}" if done else "",
                "fit s, predicted": _fmt(t.user_attrs.get(PREDICTED_SECONDS), 2),
                "fit s, took": _fmt(t.user_attrs.get(FIT_TIME), 2) if done else "",
                "parameters": _params(t)[:90]})
        return Section(html=table(rows, numeric=("trial", "predicted percentile",
                                                 self.metric, "fit s, predicted",
                                                 "fit s, took")))

    def families(self) -> Section:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        if not self.complete:
            return Section(html=note("No completed trials."))
        best: dict[str, FrozenTrial] = {}
        counts = Counter(_learner(t) for t in self.trials)
        for t in self.complete:
            name = _learner(t)
            if name not in best or self._better(t.value, best[name].value):  # type: ignore
                best[name] = t
        score = {n: float(t.value) for n, t in best.items() if t.value is not None}
        order = sorted(score, key=score.__getitem__, reverse=not self.maximize)
        fig = make_subplots(rows=1, cols=2, shared_yaxes=True, column_widths=[0.65, 0.35],
                            subplot_titles=(f"best {self.metric} "
                                            f"({'higher' if self.maximize else 'lower'} "
                                            "is better)", "fit time of that trial (s)"))
        fig.add_trace(go.Scatter(
            y=order, x=[best[n].value for n in order], mode="markers+text",
            marker={"size": 12, "color": "#2563eb"}, name=self.metric,
            text=[f"{best[n].value:.4f} · {counts[n]} trials" for n in order],
            textposition="middle right" if self.maximize else "middle left",
            hovertemplate="%{y}: %{x:.4f}<extra></extra>"), row=1, col=1)
        fig.add_trace(go.Bar(
            y=order, x=[best[n].user_attrs.get(FIT_TIME, 0.0) for n in order],
            orientation="h", marker_color="#9ca3af", name="fit time",
            hovertemplate="%{y}: %{x:.2f} s<extra></extra>"), row=1, col=2)
        values = [score[n] for n in order]
        span = (max(values) - min(values)) or abs(max(values)) or 1.0
        fig.update_xaxes(range=[min(values) - 0.45 * span, max(values) + 0.45 * span],
                         row=1, col=1)
        fig.update_layout(template="plotly_white", height=110 + 34 * len(order),
                          showlegend=False, margin={"t": 40, "l": 150, "r": 20, "b": 30})
        return Section(figure=fig)

    def leaderboard(self) -> Section:
        board = leaderboard(self.study)  # the order model.leaderboard() shows
        top = board[board["state"] == "COMPLETE"].head(10)
        rows = [{"trial": r.trial, "learner": r.learner, self.metric: _fmt(r.score),
                 "fit time (s)": _fmt(r.fit_time, 3), "origin": r.origin or SAMPLER,
                 "parameters": format_params(r.params, 3)} for r in top.itertuples()]
        return Section(html=table(rows, numeric=("trial", self.metric, "fit time (s)")))

    def ensemble(self) -> Section | None:
        record = self.attrs.get(STUDY_ENSEMBLE)
        if not record or not record.get("members"):
            return None
        by_number = {t.number: t for t in self.complete}
        rows = [{"trial": m["trial"], "learner": m["learner"], "weight": _fmt(m["weight"], 2),
                 f"CV {self.metric}": _fmt(by_number[m["trial"]].value)
                 if m["trial"] in by_number else ""}
                for m in sorted(record["members"], key=lambda m: -m["weight"])]
        summary = (f"Out-of-fold {self.metric} of the ensemble: "
                   f"{record['oof_score']:.4f}; of the best single trial: "
                   f"{record['best_single_oof_score']:.4f} (both on the pooled out-of-fold "
                   f"predictions). Built in {record.get('seconds', 0):.2f} s.")
        return Section(html=note(summary) + table(
            rows, numeric=("trial", "weight", f"CV {self.metric}")))

    def importances(self) -> Section:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        by_family: dict[str, list[FrozenTrial]] = {}
        for t in self.complete:
            by_family.setdefault(_learner(t), []).append(t)
        eligible = sorted((f for f, ts in by_family.items()
                           if len(ts) >= MIN_IMPORTANCE_TRIALS),
                          key=lambda f: -len(by_family[f]))[:4]
        results: dict[str, dict[str, float]] = {}
        notes = []
        for family in eligible:
            trials = by_family[family]
            shared = set.intersection(*(set(t.params) for t in trials)) - {"learner"}
            # Only parameters sampled from one distribution in all of the family's trials.
            params = sorted(p for p in shared
                            if len({repr(t.distributions[p]) for t in trials}) == 1)
            if not params:
                notes.append(f"{family}: no tunable parameters")
                continue
            level = optuna.logging.get_verbosity()
            optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "new study" line
            try:
                sub = optuna.create_study(direction=self.study.direction)
            finally:
                optuna.logging.set_verbosity(level)
            sub.add_trials(trials)
            try:
                results[family] = optuna.importance.get_param_importances(
                    sub, params=params,
                    evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
            except (ValueError, RuntimeError) as exc:
                notes.append(f"{family}: {exc}")
        skipped = sorted(f for f in by_family if f not in eligible)
        text = ""
        if skipped:
            text += note(f"Not enough completed trials (fewer than {MIN_IMPORTANCE_TRIALS}, "
                         f"or beyond the four busiest families) for: {', '.join(skipped)}.")
        if notes:
            text += note("Importances not computed for " + "; ".join(notes) + ".")
        if not results:
            return Section(html=text or note("No learner family has enough trials."))
        fig = make_subplots(rows=1, cols=len(results), subplot_titles=list(results),
                            horizontal_spacing=0.12)
        for i, (family, imp) in enumerate(results.items(), 1):
            names = list(imp)[::-1]
            fig.add_trace(go.Bar(x=[imp[n] for n in names],
                                 y=[n.split(".", 1)[-1] for n in names], orientation="h",
                                 marker_color="#7c3aed", name=family,
                                 hovertemplate="%{y}: %{x:.3f}<extra></extra>"),
                          row=1, col=i)
        height = 120 + 26 * max(len(v) for v in results.values())
        fig.update_layout(template="plotly_white", height=height, showlegend=False,
                          margin={"t": 40, "l": 120, "r": 20, "b": 30})
        return Section(figure=fig, html=text)

    def _knowledge_urls(self) -> list[str]:
        if self.knowledge is not None:
            items = self.knowledge if isinstance(self.knowledge, (list, tuple)) else [
                self.knowledge]
            return [str(u) for u in items]
        recorded = self.attrs.get(STUDY_WARM_START, {}).get("knowledge")
        if recorded:
            return list(recorded)

        return [shipped_knowledge_url()]

    def meta_map(self) -> Section:
        import plotly.graph_objects as go

        from .projection import project

        meta = self.attrs.get(STUDY_META_FEATURES)
        task = self.attrs.get(STUDY_TASK)
        if not meta:
            return Section(html=note("The study records no meta-features."))
        try:
            kb = KnowledgeBase([get_storage(u, create=False) for u in self._knowledge_urls()])
            frame = kb.datasets()
        except StorageError as exc:
            return Section(html=note(f"The knowledge base could not be read: {exc}"))
        here_fp = self.attrs.get(STUDY_FINGERPRINT)
        frame = frame[(frame[STUDY_TASK] == task) & (frame.index != here_fp)] if len(
            frame) else frame
        if len(frame) < 3:
            return Section(html=note(f"The knowledge base holds {len(frame)} {task} datasets; "
                                     "at least 3 are needed for a map."))
        names = [n for n in meta if n in frame.columns]
        coords, placed, explained = project(frame[names], pd.DataFrame([meta])[names])
        assert placed is not None  # this dataset, placed with the others
        here = placed
        near = {n["fingerprint"]: n for n in self.attrs.get(STUDY_NEAREST_DATASETS) or []}
        is_near = np.array([fp in near for fp in frame.index])
        fig = go.Figure()
        hover = [f"{d}<br>{s}, {int(r)} rows × {int(c)} columns" for d, s, r, c in zip(
            frame["dataset"], frame["source"], frame["n_rows"], frame["n_features"],
            strict=True)]
        fig.add_trace(go.Scatter(
            x=coords[~is_near, 0], y=coords[~is_near, 1], mode="markers",
            name="knowledge base", marker={"size": 7, "color": "#cbd5e1"},
            text=[h for h, n in zip(hover, is_near, strict=True) if not n],
            hovertemplate="%{text}<extra></extra>"))
        for x, y in coords[is_near]:
            fig.add_trace(go.Scatter(x=[here[0, 0], x], y=[here[0, 1], y], mode="lines",
                                     line={"color": "#93c5fd", "width": 1},
                                     hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(
            x=coords[is_near, 0], y=coords[is_near, 1], mode="markers+text",
            name="nearest (the warm start learned from these)",
            marker={"size": 11, "color": "#2563eb"},
            text=[str(frame.loc[fp, "dataset"]) for fp in frame.index[is_near]],
            textposition="top center", textfont={"size": 10, "color": "#1e3a8a"},
            customdata=[f"distance {near[fp]['distance']:.2f}" for fp in frame.index[is_near]],
            hovertemplate="%{text}<br>%{customdata}<extra></extra>"))
        fig.add_trace(go.Scatter(
            x=here[:, 0], y=here[:, 1], mode="markers+text", name="this dataset",
            text=[str(self.attrs.get(STUDY_DATASET, "this dataset"))],
            textposition="bottom center",
            marker={"symbol": "star", "size": 18, "color": "#dc2626"},
            hovertemplate="this dataset<extra></extra>"))
        fig.update_layout(
            template="plotly_white", height=480, legend={"orientation": "h", "y": -0.15},
            xaxis_title=f"component 1 ({100 * explained[0]:.0f} % of variance)",
            yaxis_title=f"component 2 ({100 * explained[1]:.0f} %)",
            margin={"t": 20, "l": 60, "r": 20, "b": 40})
        text = "" if near else note("No nearest datasets recorded (a cold search without "
                                    "knowledge); the map shows where the dataset lies.")
        return Section(figure=fig, html=text)

    def _benchmark_curves(self) -> dict[str, Any] | None:
        path = Path(self.benchmark) if self.benchmark is not None else DEFAULT_BENCHMARK
        if path.is_dir():
            path = path / "curves.json"
        if not path.is_file():
            if self.benchmark is not None:
                raise AutoMLError(f"No warm-start benchmark curves at {str(path)!r}; run "
                                  "python -m automl_meta.benchmarks.warm_start first.")
            return None
        return json.loads(path.read_text())

    def warm_vs_cold(self) -> Section:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        siblings = []
        fingerprint = self.attrs.get(STUDY_FINGERPRINT)
        storage = self.storage
        for s in optuna.get_all_study_summaries(storage, include_best_trial=False):
            if s.user_attrs.get(STUDY_FINGERPRINT) == fingerprint and \
                    s.user_attrs.get(STUDY_METRIC) == self.metric and s.n_trials > 0:
                siblings.append(s)
        curves = self._benchmark_curves()
        titles = ["this dataset: best so far"]
        if curves:
            titles.append(f"benchmark: mean normalised regret ({curves['n_datasets']} "
                          "datasets held out)")
        fig = make_subplots(rows=1, cols=len(titles), horizontal_spacing=0.1,
                            subplot_titles=titles)
        has_cold = False
        for s in siblings:
            warm = bool(s.user_attrs.get(STUDY_WARM_START, {}).get("enabled"))
            has_cold |= not warm
            if s.study_name == self.study.study_name:
                trials = self.complete  # already read
            else:
                trials = [t for t in sorted(
                    optuna.load_study(study_name=s.study_name, storage=storage).get_trials(
                        deepcopy=False, states=(TrialState.COMPLETE,)), key=lambda t: t.number)
                    if t.value is not None and math.isfinite(t.value)]
            xs, ys = self._best_so_far(trials)
            xs = [x + 1 for x in xs]  # trials run, counting from 1
            label = f"{'warm' if warm else 'cold'}: {s.study_name}"[:60]
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=label,
                                     line={"shape": "hv", "dash": "solid" if warm else "dot"},
                                     legendgroup="this"), row=1, col=1)
        if curves:
            for method, values in curves["methods"].items():
                fig.add_trace(go.Scatter(
                    x=list(range(1, len(values) + 1)), y=values, mode="lines",
                    name=method, legendgroup="bench",
                    hovertemplate=(f"{escape(curves['descriptions'].get(method, method))}"
                                   "<br>trial %{x}: regret %{y:.4f}<extra></extra>")),
                    row=1, col=2)
            fig.update_yaxes(type="log", row=1, col=2)
            fig.update_xaxes(title_text="trials", row=1, col=2)
        fig.update_xaxes(title_text="trials", row=1, col=1)
        fig.update_yaxes(title_text=self.metric, row=1, col=1)
        fig.update_layout(template="plotly_white", height=440,
                          legend={"orientation": "h", "y": -0.25, "font": {"size": 11}},
                          margin={"t": 40, "l": 60, "r": 20, "b": 40})
        notes = []
        if not has_cold:
            notes.append("No cold search of this dataset is stored here: fit it again with "
                         "warm_start=False (same storage) to compare on the left.")
        if curves:
            notes.append(f"Benchmark: commit {curves.get('commit', '?')}, "
                         f"{curves.get('machine', '?')}; pool {curves.get('pool', '?')}.")
        else:
            notes.append("The benchmark curves appear on the right once "
                         "`python -m automl_meta.benchmarks.warm_start` has written "
                         f"{DEFAULT_BENCHMARK} (or pass --benchmark).")
        return Section(figure=fig, html="".join(note(n) for n in notes))

    def failures(self) -> Section | None:
        if not self.failed:
            return None
        rows = [{"trial": t.number, "learner": _learner(t),
                 "reason": failure_reason(t),
                 "message": str(t.user_attrs.get(FAILURE_MESSAGE, ""))[:160]}
                for t in self.failed]
        return Section(html=table(rows, numeric=("trial",)))

    # ------------------------------------------------------------ the page
    def render(self) -> str:
        builders = {"history": self.history, "warm_start": self.warm_start,
                    "families": self.families, "ensemble": self.ensemble,
                    "leaderboard": self.leaderboard,
                    "importances": self.importances, "meta_map": self.meta_map,
                    "warm_vs_cold": self.warm_vs_cold, "failures": self.failures}
        sections = {}
        for key, build in builders.items():
            section = build()
            if section is not None:
                sections[key] = section
        a = self.attrs
        subtitle = escape(f"study {self.study.study_name!r} in "
                          f"{storage_url(self.storage)}")
        return render("study", sections, title=f"automl-meta report: {a.get('dataset', '?')}",
                      subtitle=subtitle, summary_html=self.summary())


def write_study_report(study: optuna.Study, out: str | os.PathLike, *,
                       knowledge: Any = None,
                       benchmark: str | os.PathLike | None = None) -> Path:
    """Write the self-contained HTML report of ``study`` to ``out``; returns its path.

    Parameters
    ----------
    study : optuna.Study
        A study written by a fit.
    out : str or path-like
        The HTML file written.
    knowledge : str or list of str, optional
        The knowledge base the study's dataset is placed in (default: the shipped one).
    benchmark : str or path-like, optional
        A warm-start benchmark's results file, whose regret curves the report shows.
    """
    return write(out, StudyReport(study, knowledge, benchmark).render())
