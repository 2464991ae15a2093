"""The knowledge-base overview: every stored dataset on a map, and learner coverage."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..knowledge import KnowledgeBase
from ..knowledge.storage import get_storage
from ..meta_features import feature_names
from .page import Section, escape, note, render, table, write

SOURCE_COLOURS = ["#2563eb", "#16a34a", "#d97706", "#7c3aed", "#dc2626", "#0891b2",
                  "#6b7280", "#db2777"]


def _family_of(config_key: str) -> str:
    return str(json.loads(config_key).get("learner", "?"))


class KnowledgeReport:
    """Build the sections of the knowledge-base report for ``kb``."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.frame = kb.datasets()
        self._by_task: dict[str, tuple[pd.DataFrame, pd.Series, pd.DataFrame]] = {}

    def _scores(self, task: str) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
        """``(score matrix, learner family of each column, datasets × families best)`` of
        ``task``, read once: the normalised score matrix and each family's best score."""
        if task not in self._by_task:
            matrix = self.kb.score_matrix(task=task, normalise=True)
            families = pd.Series({c: _family_of(c) for c in matrix.columns}, dtype=object)
            best = matrix if matrix.empty else matrix.T.groupby(families).max().T
            self._by_task[task] = (matrix, families, best)
        return self._by_task[task]

    def summary(self) -> str:
        f = self.frame
        if f.empty:
            return "<p>The knowledge base is empty.</p>"
        facts = [("datasets", len(f)), ("studies", int(f["n_studies"].sum())),
                 ("trials", int(f["n_trials"].sum())),
                 ("classification", int((f["task"] == "classification").sum())),
                 ("regression", int((f["task"] == "regression").sum())),
                 ("families of datasets", f["family"].nunique()),
                 ("digest", self.kb.digest())]
        boxes = "".join(f'<div class="fact"><div class="k">{escape(k)}</div>'
                        f'<div class="v">{escape(v)}</div></div>' for k, v in facts)
        urls = ", ".join(escape(u) for u in self.kb.urls)
        return (f'<div class="facts">{boxes}</div><p>Read from {urls}. Every dataset is an '
                "Optuna study whose user attributes hold its meta-features; its trials are "
                "the configurations tried on it. The warm start learns from all of them.</p>")

    def overview(self) -> Section:
        f = self.frame
        if f.empty:
            return Section(html=note("No datasets stored."))
        groups = f.groupby(["task", "source"]).agg(
            datasets=("dataset", "size"), trials=("n_trials", "sum"),
            median_rows=("n_rows", "median"), median_columns=("n_features", "median"))
        rows = [{"task": t, "source": s, "datasets": int(r.datasets), "trials": int(r.trials),
                 "median rows": int(r.median_rows), "median columns": int(r.median_columns)}
                for (t, s), r in groups.iterrows()]
        return Section(html=table(rows, numeric=("datasets", "trials", "median rows",
                                                 "median columns")))

    def map(self) -> Section:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        from .projection import project

        tasks = [t for t in ("classification", "regression")
                 if (self.frame["task"] == t).sum() >= 3] if len(self.frame) else []
        if not tasks:
            return Section(html=note("Fewer than 3 datasets of any task: nothing to map."))
        fig = make_subplots(rows=1, cols=len(tasks), subplot_titles=tasks,
                            horizontal_spacing=0.08)
        sources = sorted(set(self.frame["source"]))
        colours = {s: SOURCE_COLOURS[i % len(SOURCE_COLOURS)] for i, s in enumerate(sources)}
        names = [n for n in feature_names() if n in self.frame.columns]
        shown: set[str] = set()
        for col, task in enumerate(tasks, 1):
            part = self.frame[self.frame["task"] == task]
            coords, _, explained = project(part[names])
            for source in sources:
                mask = (part["source"] == source).to_numpy()
                if not mask.any():
                    continue
                sub = part[mask]
                fig.add_trace(go.Scatter(
                    x=coords[mask, 0], y=coords[mask, 1], mode="markers", name=source,
                    legendgroup=source, showlegend=source not in shown,
                    marker={"color": colours[source], "opacity": 0.8,
                            "size": np.clip(4 + 2.2 * np.log10(sub["n_rows"].astype(float)
                                                               .clip(lower=1)), 4, 16)},
                    text=[f"{d} ({fam})<br>{int(r)} rows × {int(c)} columns, {int(n)} trials"
                          for d, fam, r, c, n in zip(sub["dataset"], sub["family"],
                                                     sub["n_rows"], sub["n_features"],
                                                     sub["n_trials"], strict=True)],
                    hovertemplate="%{text}<extra>" + source + "</extra>"), row=1, col=col)
                shown.add(source)
            fig.update_xaxes(title_text=f"component 1 ({100 * explained[0]:.0f} %)",
                             row=1, col=col)
            fig.update_yaxes(title_text=f"component 2 ({100 * explained[1]:.0f} %)",
                             row=1, col=col)
        fig.update_layout(template="plotly_white", height=470,
                          legend={"orientation": "h", "y": -0.18},
                          margin={"t": 40, "l": 60, "r": 20, "b": 40})
        return Section(figure=fig)

    def coverage(self) -> Section:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        stats: dict[str, dict[str, int]] = {}
        for task in ("classification", "regression"):
            matrix, families, best = self._scores(task)
            if best.empty:
                continue
            trials = matrix.notna().T.groupby(families).sum().sum(axis=1)
            winners = best.idxmax(axis=1).value_counts()
            for family in best.columns:
                s = stats.setdefault(family, {"configurations evaluated": 0, "datasets": 0,
                                              "best on": 0})
                s["configurations evaluated"] += int(trials.get(family, 0))
                s["datasets"] += int(best[family].notna().sum())
                s["best on"] += int(winners.get(family, 0))
        if not stats:
            return Section(html=note("No evaluated configurations stored."))
        order = sorted(stats, key=lambda f: stats[f]["best on"])
        fig = make_subplots(rows=1, cols=3, shared_yaxes=True, subplot_titles=(
            "dataset × configuration cells", "datasets evaluated on", "datasets where best"))
        for i, key in enumerate(["configurations evaluated", "datasets", "best on"], 1):
            fig.add_trace(go.Bar(y=order, x=[stats[f][key] for f in order], orientation="h",
                                 marker_color=["#9ca3af", "#60a5fa", "#2563eb"][i - 1],
                                 name=key, hovertemplate="%{y}: %{x}<extra>" + key +
                                 "</extra>"), row=1, col=i)
        fig.update_layout(template="plotly_white", height=110 + 30 * len(order),
                          showlegend=False, margin={"t": 40, "l": 150, "r": 20, "b": 30})
        return Section(figure=fig)

    def heatmap(self) -> Section:
        import plotly.graph_objects as go

        parts = []
        for task in ("classification", "regression"):
            _, _, best = self._scores(task)
            if best.empty:
                continue
            info = self.frame.loc[best.index]
            best = best.assign(_s=info["source"], _d=info["dataset"]).sort_values(
                ["_s", "_d"]).drop(columns=["_s", "_d"])
            best.index = [f"{task[:5]}. {self.frame.loc[fp, 'source']}: "
                          f"{self.frame.loc[fp, 'dataset']}" for fp in best.index]
            parts.append(best)
        if not parts:
            return Section(html=note("No evaluated configurations stored."))
        grid = pd.concat(parts)
        grid = grid[sorted(grid.columns)]
        fig = go.Figure(go.Heatmap(
            z=grid.to_numpy(dtype=float), x=list(grid.columns), y=list(grid.index),
            colorscale="Blues", zmin=0, zmax=1, colorbar={"title": "best"},
            hovertemplate="%{y}<br>%{x}: %{z:.3f}<extra></extra>"))
        fig.update_layout(template="plotly_white", height=min(200 + 9 * len(grid), 2400),
                          yaxis={"autorange": "reversed", "showticklabels": len(grid) <= 60},
                          margin={"t": 20, "l": 60 if len(grid) > 60 else 260, "r": 20,
                                  "b": 60})
        return Section(figure=fig)

    def render(self) -> str:
        sections = {"kb_overview": self.overview(), "kb_map": self.map(),
                    "kb_coverage": self.coverage(), "kb_heatmap": self.heatmap()}
        return render("knowledge", sections, title="automl-meta knowledge base",
                      subtitle=escape(", ".join(self.kb.urls)), summary_html=self.summary())


def write_knowledge_report(knowledge: Any, out: str | os.PathLike) -> Path:
    """Write the knowledge-base overview of ``knowledge`` (storage URLs) to ``out``.

    Parameters
    ----------
    knowledge : str or list of str
        The knowledge base's storage URL(s).
    out : str or path-like
        The HTML file written.
    """
    items = knowledge if isinstance(knowledge, (list, tuple)) else [knowledge]
    kb = KnowledgeBase([get_storage(u, create=False) for u in items])
    return write(out, KnowledgeReport(kb).render())
