"""The documented, automated rules that turn a documented table into a learning task.

A table enters the corpus only with a target that its own documentation names as the
response, in this order of precedence (the first rule that names a usable column wins):

``formula``
    the left-hand side of the first model formula in the documentation (``lm(price ~
    ...)``, ``glm(died ~ ...)``, ``t.test(y ~ group)``; a transform such as ``log(price)``
    names ``price``);
``named-response``
    the column the documentation calls the response, dependent variable or outcome
    (``"Count models use los as response variable"``, a Format entry that reads
    ``"response variable: ..."``);
``statsmodels-endog``
    for statsmodels' datasets, the ``endog_name`` the dataset module declares;
``title``
    the first word of the documentation's title that names a column (``"Prices of
    Personal Computers"`` names ``price``; a plural or a column's first ``_``/``.`` part
    counts), unless that word is one of ``NOT_A_RESPONSE`` (time, place and index words
    such as ``year``, ``state``, ``id``, ``episode``), which a title names as the data's
    frame rather than what was measured.

A table with none of these is skipped (reason ``no-documented-target``). The named column
becomes a regression target if it is numeric with at least ``MIN_REGRESSION_VALUES``
distinct values, a classification target if it has 2 to ``MAX_CLASSES`` classes with at
least ``MIN_CLASS_ROWS`` rows each, else the table is skipped.

Columns are then dropped by :func:`leaking_columns` (a transform or second coding of the
target, or an identifier); the reviewed exceptions the rules cannot know (post-outcome
variables, a better documented target) are in ``corpus/exceptions.csv``. Each rule's
outcome for every table is written to the reviewed catalogue, ``corpus/catalog.csv``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._types import Task

MIN_REGRESSION_VALUES = 10
MAX_CLASSES = 20
MIN_CLASS_ROWS = 5
# A numeric column this rank-correlated with a regression target is a transform of it.
TRANSFORM_CORRELATION = 0.98
# A column that alone predicts this share of a classification target is a second coding.
SECOND_CODING_SHARE = 0.99

# R functions whose first argument's formula names the response on its left-hand side.
_MODEL_CALLS = (
    "lm", "glm", "glm.nb", "lmer", "glmer", "lme", "gls", "nls", "aov", "anova", "gam",
    "bam", "loess", "rpart", "tree", "ctree", "randomForest", "polr", "clm", "multinom",
    "betareg", "zeroinfl", "hurdle", "rlm", "lmrob", "glmrob", "ltsReg", "rq", "crch",
    "tobit", "censReg", "ivreg", "plm", "pglm", "geeglm", "gee", "ordgee", "lda", "qda",
    "naiveBayes", "svm", "nnet", "earth", "t.test", "wilcox.test", "kruskal.test",
    "oneway.test", "var.test", "bartlett.test", "fligner.test", "lm.fit", "drm", "brm",
    "stan_glm", "lrm", "ols", "feols", "felm", "selection", "heckit", "biglm", "mlogit",
    "vglm", "negbin", "glm.poisson", "truncreg", "hetglm", "cart", "bagging", "boosting",
    "train", "xyplot", "bwplot", "dotplot", "stripplot", "boxplot", "plot",
)
_CALL = "|".join(re.escape(c) for c in sorted(_MODEL_CALLS, key=len, reverse=True))
_FORMULA = re.compile(
    rf"(?<![\w.])(?:{_CALL})\s*\(\s*(?:formula\s*=\s*)?([^~(),=]{{0,60}}?(?:\([^~()]*\))?)\s*~")
_TRANSFORM = re.compile(r"^(?:log|log1p|log10|log2|sqrt|exp|as\.numeric|as\.factor|factor|"
                        r"I|scale|ordered|as\.integer|asin|logit)\s*\((.*)\)$")
_RESPONSE = re.compile(
    r"(?:\b(?:use|uses|using|with|take|takes|is|as|are)\s+`?([A-Za-z][\w.]*)`?\s+(?:as|is)\s+"
    r"(?:the\s+)?(?:response|dependent|outcome)(?:\s+variable)?)"
    r"|(?:\b(?:response|dependent variable|outcome variable|outcome)\s*(?:variable\s*)?"
    r"(?:is|:|=)\s*`?([A-Za-z][\w.]*)`?)", re.IGNORECASE)


# Title words that name a table's frame (when, where, which), not its response.
NOT_A_RESPONSE = frozenset({
    "year", "years", "date", "day", "days", "month", "months", "week", "time", "times",
    "quarter", "season", "seasons", "episode", "episodes", "id", "case", "cases", "name",
    "names", "country", "countries", "state", "states", "city", "county", "region", "point",
    "points", "site", "sites", "subject", "subjects", "data", "study", "survey", "sample",
    "number", "index", "record", "records", "series", "period", "round", "wave", "panel",
})
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


@dataclass(frozen=True)
class TargetChoice:
    """A table's target, how it was chosen, and the task it makes."""

    column: str
    rule: str
    task: Task


def _columns_by_key(columns: list[str]) -> dict[str, str]:
    """Documentation spells a column as R does; a frame may have it in another case."""
    out: dict[str, str] = {}
    for c in columns:
        out.setdefault(c, c)
        out.setdefault(c.lower(), c)
    return out


def _strip_transform(lhs: str) -> str:
    lhs = lhs.strip().strip("`")
    while (m := _TRANSFORM.match(lhs)) is not None:
        lhs = m.group(1).split(",")[0].strip().strip("`")
    return lhs.split("$")[-1].strip()


def formula_targets(doc: str) -> list[str]:
    """Left-hand sides of the model formulas in ``doc``, in order, transforms removed.

    >>> formula_targets("fit <- glm(los ~ hmo + white, data=medpar); lm(log(price) ~ .)")
    ['los', 'price']
    """
    return [_strip_transform(m.group(1)) for m in _FORMULA.finditer(doc)
            if m.group(1).strip()]


def response_mentions(doc: str) -> list[str]:
    """Columns ``doc`` calls the response, dependent or outcome variable.

    >>> response_mentions("Count models use los as response variable.")
    ['los']
    """
    return [next(g for g in m.groups() if g) for m in _RESPONSE.finditer(doc)]


def _stem(word: str) -> str:
    word = word.lower()
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def title_targets(title: str, columns: list[str]) -> list[str]:
    """Columns named by words of ``title``, in the title's order.

    >>> title_targets("Prices of Personal Computers", ["speed", "price", "hd"])
    ['price']
    >>> title_targets("Wages and Education of Young Males, by year", ["year", "wage_hr"])
    ['wage_hr']
    """
    by_stem: dict[str, str] = {}
    for c in columns:
        by_stem.setdefault(_stem(c), c)
    for c in columns:
        head = re.split(r"[._]", c)[0]
        if len(head) > 2:
            by_stem.setdefault(_stem(head), c)
    out: list[str] = []
    for word in _WORD.findall(title):
        if word.lower() in NOT_A_RESPONSE or len(word) < 2:
            continue
        column = by_stem.get(_stem(word))
        if column is not None and column not in out:
            out.append(column)
    return out


def task_of(values: pd.Series) -> Task | None:
    """The task a target column makes, or None if it makes no usable one.

    >>> task_of(pd.Series(np.arange(50.0))), task_of(pd.Series(["a", "b"] * 10))
    ('regression', 'classification')
    """
    values = values.dropna()
    if len(values) == 0:
        return None
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    n_distinct = values.nunique()
    if numeric and n_distinct >= MIN_REGRESSION_VALUES:
        return "regression"
    if 2 <= n_distinct <= MAX_CLASSES:
        counts = values.astype(str).value_counts()
        if counts.min() >= MIN_CLASS_ROWS:
            return "classification"
    return None


def choose_target(frame: pd.DataFrame, doc: str | None, endog: str | None = None,
                  title: str | None = None) -> TargetChoice | None:
    """Apply the rules of this module, in order; None when no rule names a usable column.

    >>> frame = pd.DataFrame({"los": np.arange(30) % 12, "hmo": [0, 1] * 15})
    >>> choose_target(frame, "glm(los ~ hmo, family=poisson)")
    TargetChoice(column='los', rule='formula', task='regression')
    """
    columns = _columns_by_key([str(c) for c in frame.columns])
    candidates: list[tuple[str, str]] = []
    if endog:
        candidates.append((endog, "statsmodels-endog"))
    if doc:
        candidates += [(c, "formula") for c in formula_targets(doc)]
        candidates += [(c, "named-response") for c in response_mentions(doc)]
    if title:
        candidates += [(c, "title") for c in title_targets(title, [str(c) for c in frame.columns])]
    for name, rule in candidates:
        column = columns.get(name) or columns.get(name.lower())
        if column is None:
            continue
        task = task_of(frame[column])
        if task is not None and not _is_identifier(frame[column], len(frame)):
            return TargetChoice(column, rule, task)
    return None


# ----------------------------------------------------------------- leakage
def _is_identifier(values: pd.Series, n_rows: int) -> bool:
    """Unique per row and either text or a run of integers (a row number or a code)."""
    v = values.dropna()
    if len(v) < 0.95 * n_rows or v.nunique() < 0.98 * len(v):
        return False
    if not pd.api.types.is_numeric_dtype(v):
        return True
    if pd.api.types.is_float_dtype(v) and not np.all(np.mod(v.to_numpy(), 1) == 0):
        return False
    span = float(v.max()) - float(v.min()) + 1
    return span <= 1.5 * len(v)


def leaking_columns(frame: pd.DataFrame, target: str, task: Task) -> dict[str, str]:
    """Columns to drop with the reason: ``identifier``, ``transform-of-target`` (a numeric
    column whose rank correlation with a regression target is at least
    ``TRANSFORM_CORRELATION``), ``second-coding-of-target`` (a column whose values alone
    give a classification target on at least ``SECOND_CODING_SHARE`` of the rows).

    >>> frame = pd.DataFrame({"id": range(40), "y": np.arange(40.0) ** 2,
    ...                       "logy": np.log1p(np.arange(40.0) ** 2),
    ...                       "x": np.random.default_rng(0).normal(size=40)})
    >>> leaking_columns(frame, "y", "regression")
    {'id': 'identifier', 'logy': 'transform-of-target'}
    """
    y = frame[target]
    out: dict[str, str] = {}
    n = len(frame)
    for col in frame.columns:
        if col == target:
            continue
        values = frame[col]
        if _is_identifier(values, n):
            out[str(col)] = "identifier"
            continue
        both = values.notna() & y.notna()
        if both.sum() < 10:
            continue
        if task == "regression" and pd.api.types.is_numeric_dtype(values) \
                and not pd.api.types.is_bool_dtype(values):
            rho = pd.Series(values[both].to_numpy(dtype=float)).rank().corr(
                pd.Series(y[both].to_numpy(dtype=float)).rank())
            if np.isfinite(rho) and abs(rho) >= TRANSFORM_CORRELATION:
                out[str(col)] = "transform-of-target"
        elif task == "classification":
            key = values[both].astype(str)
            if key.nunique() > min(2 * MAX_CLASSES, both.sum() / 5):
                continue  # small groups are pure by chance: no evidence of a coding
            joint = pd.crosstab(key, y[both].astype(str))
            if joint.max(axis=1).sum() >= SECOND_CODING_SHARE * both.sum():
                out[str(col)] = "second-coding-of-target"
    return out
