"""Reports a person would rather look at than read: self-contained plotly HTML.

- :func:`write_study_report`: one search (history with the warm-start trials marked, what
  the warm start proposed and why, the leaderboard by learner family, hyperparameter
  importances, the dataset's place among the knowledge base's datasets, warm against cold);
- :func:`write_knowledge_report`: the knowledge base (every dataset on a meta-feature map,
  coverage by learner family).

:mod:`.console` prints a fitted model's leaderboard and summary in the terminal.

The page layout (shell and section order, titles, captions) lives in ``dashboards/``.
"""

from __future__ import annotations

from .knowledge import write_knowledge_report
from .study import find_study, write_study_report

__all__ = ["find_study", "write_knowledge_report", "write_study_report"]
