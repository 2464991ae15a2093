"""Few-shot benchmark: meta-learned initialisations against random initialisation.

    python -m automl_meta.benchmarks.few_shot [--steps 1000] [--repeats 3] [--device cpu]

Held-out split (fixed): the corpus's classification dataset families sorted by name,
every fifth one (``families[::5]``) held out; MAML, first-order MAML and Reptile are
meta-trained on the others, and a "random init" artifact holds the untrained network.
On each held-out dataset with at most 10 classes, K = 5, 10 and 20 rows per class form
the training set and up to 300 other rows the test set, preprocessed exactly as in a
search (preprocessing fitted on the K shots alone). The learners are the search's own:
``mlp_meta`` (:class:`MetaMLPClassifier`) from each initialisation after S = 0, 1, 5 and
25 gradient steps, with the meta-learned output units or prototype-generated ones;
``protonet`` from each meta-learned initialisation; and logistic regression, 3-NN and a
random forest on the same shots, plus the one of those three a user would pick
(best in a cross-validation on the shots) and the best on the test rows (an optimistic
oracle). The score is balanced accuracy: the test rows are as
imbalanced as the dataset (many KEEL sets are), and plain accuracy would reward the
majority class. Writes ``table.md``, ``results.csv`` and ``few_shot.html`` to ``--out``.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SHOTS = (5, 10, 20)
STEPS = (0, 1, 5, 25)
ALGOS = ("maml", "fomaml", "reptile")


def held_out_families(families: Sequence[str], split: str = "test") -> list[str]:
    """The fixed held-out families: every fifth of the sorted family names (``"test"``),
    or, to choose a recipe without looking at those, the ones after them
    (``"validation"``).

    >>> held_out_families(["e", "d", "c", "b", "a", "f"])
    ['a', 'f']
    >>> held_out_families(["e", "d", "c", "b", "a", "f"], "validation")
    ['b']
    """
    names = sorted(set(families))
    return names[::5] if split == "test" else names[1::5]


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean recall over the classes present (the query sets are as imbalanced as the
    datasets; plain accuracy would reward predicting the majority class).

    >>> balanced_accuracy(np.array([0, 0, 0, 1]), np.array([0, 0, 0, 0]))
    0.5
    """
    return float(np.mean([(y_pred[y_true == c] == c).mean() for c in np.unique(y_true)]))


def method_name(init: str, head: str, views: int) -> str:
    """The results' name of a fine-tuned start.

    >>> method_name("reptile", "prototypes", 5)
    'reptile, prototype head, 5 views'
    """
    return (init + (", prototype head" if head == "prototypes" else "")
            + (f", {views} views" if views > 1 else ""))


def _shots(y: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``k`` training rows per class (fewer where a class is small; one row of each class
    stays for testing) and up to 300 other rows for testing."""
    support = np.concatenate([
        rng.choice(np.flatnonzero(y == c), size=min(k, int((y == c).sum()) - 1),
                   replace=False) for c in np.unique(y) if (y == c).sum() > 1])
    rest = np.setdiff1d(np.arange(len(y)), support)
    return support, rng.choice(rest, size=min(300, len(rest)), replace=False)


def _prepared(frame, y, support, query):
    """The support and query rows as the search's ``"scaled"`` learners see them: column
    plan (types only) on the table, preprocessing fitted on the support rows alone."""
    import warnings

    from ..data.plan import ColumnPlan
    from ..data.preprocessing import make_preprocessor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = ColumnPlan().fit(frame)
        clean = plan.transform(frame)
        prep = make_preprocessor(plan, "scaled", "classification")
        Xs = prep.fit_transform(clean.iloc[support], y[support])
        Xq = prep.transform(clean.iloc[query])
    return np.asarray(Xs, dtype=float), np.asarray(Xq, dtype=float)


def _sklearn_models(n_rows: int, seed: int) -> dict:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    return {"logistic regression": LogisticRegression(max_iter=1000),
            "3-NN": KNeighborsClassifier(n_neighbors=min(3, n_rows)),
            "random forest": RandomForestClassifier(n_estimators=100, random_state=seed)}


SKLEARN = ("logistic regression", "3-NN", "random forest")
CV_PICK = "sklearn picked by CV on the shots"
ORACLE = "best sklearn (picked on test)"


def _sklearn_scores(X, y, Xq, yq, seed: int) -> dict[str, float]:
    """Each scikit-learn learner's score; the one a user would pick (by cross-validation
    on the shots); and the best on the test rows (an oracle, optimistic)."""
    scores = {name: balanced_accuracy(yq, m.fit(X, y).predict(Xq))
              for name, m in _sklearn_models(len(y), seed).items()}
    scores[CV_PICK] = scores[_cv_pick(X, y, seed)]
    scores[ORACLE] = max(scores[m] for m in SKLEARN)
    return scores


def _cv_pick(X, y, seed: int) -> str:
    """The scikit-learn learner with the best cross-validation on the training shots."""
    return _cv_best(X, y, {name: (lambda rows, name=name: _sklearn_models(rows, seed)[name])
                           for name in SKLEARN})


def _cv_best(X, y, makers: dict):
    """The key of ``makers`` (``key -> (rows -> unfitted model)``) with the best mean
    balanced accuracy in a stratified cross-validation on the training shots alone (ties:
    the first listed)."""
    from sklearn.model_selection import StratifiedKFold

    names = list(makers)
    folds = min(5, int(np.bincount(y)[np.unique(y)].min()))
    if folds < 2:
        return names[0]
    totals = dict.fromkeys(names, 0.0)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(X, y):
        for name in names:
            pred = makers[name](len(train)).fit(X[train], y[train]).predict(X[test])
            totals[name] += balanced_accuracy(y[test], pred)
    return max(names, key=lambda n: totals[n])


# What --cv-pick chooses among for a meta-learned start: the head and the steps (those of
# the fixed rows but 0, so the chosen one's test score is already measured)
NEURAL_CHOICES = tuple(itertools.product(("meta", "prototypes"), STEPS[1:]))


def picked_name(init: str, views: int) -> str:
    """The results' name of a meta-learned start whose head and steps a cross-validation
    on the shots picked.

    >>> picked_name("reptile", 5)
    'reptile, 5 views, head and steps picked by CV'
    """
    return method_name(init, "meta", views) + ", head and steps picked by CV"


def main(argv: Sequence[str] | None = None) -> int:
    import warnings

    import pandas as pd

    from ..corpus.datasets import corpus_datasets
    from ..corpus.meta_tasks import corpus_tasks
    from ..learners.torch.initialisation import Recipe
    from ..learners.torch.meta import MetaMLPClassifier, ProtoNetClassifier
    from ..meta_learning.train import meta_train
    from .warm_start import commit_hash, markdown_table

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="meta-training steps")
    parser.add_argument("--repeats", type=int, default=3, help="shot draws per dataset")
    parser.add_argument("--lr", type=float, default=0.1, help="fine-tuning learning rate")
    parser.add_argument("--device", default="cpu", help="meta-training and fine-tuning")
    parser.add_argument("--algos", nargs="+", default=list(ALGOS), choices=ALGOS)
    parser.add_argument("--recipe", nargs="*", default=[], metavar="KEY=VALUE",
                        help="meta-training recipe overrides, e.g. inner_steps=10 k_shot=10")
    parser.add_argument("--views", nargs="+", type=int, default=[1],
                        help="fine-tune mlp_meta on this many views of the inputs and "
                             "average (one row set per count)")
    parser.add_argument("--split", choices=("test", "validation"), default="test",
                        help="evaluate on the fixed held-out families (test), or on "
                             "other families, meta-training without either (validation: "
                             "for choosing a recipe)")
    parser.add_argument("--cv-pick", action="store_true",
                        help="also pick each meta-learned start's head and steps (1, 5, 25) "
                             "by a cross-validation on the shots, as the scikit-learn "
                             "learner is picked (slower)")
    parser.add_argument("--out", default="benchmarks/few_shot")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    classification = [d for d in corpus_datasets(["sklearn", "keel"])
                      if d.task == "classification"]
    families = [d.family for d in classification]
    held = held_out_families(families, args.split)
    # validation: meta-train without the test families either
    excluded = sorted(set(held) | set(held_out_families(families)))
    overrides = {}
    for item in args.recipe:
        key, value = item.split("=", 1)
        kind = type(getattr(Recipe(), key))
        overrides[key] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    # the untrained network, with the same input map as the meta-trained ones
    inits = {"random init": meta_train(Recipe(**{**overrides, "steps": 0, "meta_sgd": False,
                                                 "exclude_families": excluded}),
                                       out / "random.pt", corpus_tasks(), progress=False)}
    for algo in args.algos:
        recipe = Recipe(**{"algorithm": algo, "steps": args.steps,
                           "exclude_families": excluded,
                           "inner_lr": args.lr, **overrides})
        inits[algo] = meta_train(recipe, out / f"{algo}.pt", corpus_tasks(), device=args.device,
                                 progress=False)
        print(f"meta-trained {algo} ({time.perf_counter() - started:.0f} s)", flush=True)
    n_out = Recipe().n_out
    rows = []
    for d in classification:
        if d.family not in held:
            continue
        frame, target = d.load()
        frame = frame.reset_index(drop=True)
        y = pd.factorize(pd.Series(np.asarray(target)).astype(str), sort=True)[0]
        if len(np.unique(y)) > n_out:
            continue
        for k in SHOTS:
            for r in range(args.repeats):
                rng = np.random.default_rng([r, k])
                support, query = _shots(y, k, rng)
                Xs, Xq = _prepared(frame, y, support, query)
                ys, yq = y[support], y[query]
                base = {"dataset": d.key, "family": d.family, "K": k, "repeat": r}
                for init_name, path in inits.items():
                    for head, views in itertools.product(("meta", "prototypes"), args.views):
                        method = method_name(init_name, head, views)
                        for s in STEPS:
                            model = MetaMLPClassifier(steps=s, learning_rate=args.lr,
                                                      head=head, views=views,
                                                      init=str(path), random_state=r,
                                                      device=args.device)
                            with warnings.catch_warnings():
                                warnings.simplefilter("ignore")
                                pred = model.fit(Xs, ys).predict(Xq)
                            rows.append({**base, "method": method, "S": s,
                                         "accuracy": balanced_accuracy(yq, pred)})
                    if init_name != "random init" and args.cv_pick:
                        for views in args.views:
                            with warnings.catch_warnings():
                                warnings.simplefilter("ignore")
                                head, steps = _cv_best(Xs, ys, {
                                    (h, st): (lambda n, h=h, st=st, v=views, p=path, r=r:
                                              MetaMLPClassifier(
                                                  steps=st, learning_rate=args.lr, head=h,
                                                  views=v, init=str(p), random_state=r,
                                                  device=args.device))
                                    for h, st in NEURAL_CHOICES})
                            chosen = next(row["accuracy"] for row in reversed(rows)
                                          if row["method"] == method_name(init_name, head, views)
                                          and row["S"] == steps)
                            rows.append({**base, "method": picked_name(init_name, views),
                                         "S": -1, "accuracy": chosen})
                    if init_name != "random init":
                        proto = ProtoNetClassifier(init=str(path), device=args.device)
                        rows.append({**base, "method": f"protonet ({init_name})", "S": 0,
                                     "accuracy": balanced_accuracy(
                                         yq, proto.fit(Xs, ys).predict(Xq))})
                sk = _sklearn_scores(Xs, ys, Xq, yq, r)
                rows += [{**base, "method": m, "S": -1, "accuracy": a} for m, a in sk.items()]
        print(f"{d.key} ({time.perf_counter() - started:.0f} s)", flush=True)
    frame = pd.DataFrame(rows)
    frame.to_csv(out / "results.csv", index=False)
    text = summary(frame, held, args, commit_hash(), time.perf_counter() - started,
                   markdown_table)
    (out / "table.md").write_text(text)
    _plot(frame, out / "few_shot.html")
    print(text)
    return 0


def summary(frame, held, args, commit: str, seconds: float, markdown_table) -> str:
    """The tables of the write-up: mean accuracy, wins against random initialisation at
    equal steps, and the gap to the best scikit-learn learner at K <= 10."""
    import pandas as pd

    mean = frame.groupby(["method", "S", "K"])["accuracy"].mean().unstack("K")
    mean.columns = [f"K={k}" for k in mean.columns]
    mean = mean.reset_index()
    mean["method"] = mean["method"] + mean["S"].map(lambda s: f", S={s}" if s >= 0 else "")
    per = frame.groupby(["dataset", "K", "method", "S"])["accuracy"].mean()
    picked = per.xs((CV_PICK, -1), level=("method", "S"))
    oracle = per.xs((ORACLE, -1), level=("method", "S"))
    family = frame.drop_duplicates("dataset").set_index("dataset")["family"]

    def against_sklearn(a) -> dict:
        """``a`` (per dataset and K) at K <= 10 against the CV pick: mean over (dataset,
        K) pairs, share ahead, mean over families (each family weighted once: the split's
        glass and abalone variants would otherwise count 14 and 7 times), and against
        the oracle."""
        small = a[a.index.get_level_values("K") <= 10]
        gap = small - picked[small.index]
        by_dataset = gap.groupby(level="dataset").mean()
        return {"K<=10: mean vs sklearn picked by CV": float(gap.mean()),
                "beats it on": f"{(gap > 0).mean():.0%}",
                "per-family mean": float(by_dataset.groupby(
                    by_dataset.index.map(family)).mean().mean()),
                "mean vs oracle": float((small - oracle[small.index]).mean())}

    wins = []
    for algo, head, views in itertools.product(args.algos, ("meta", "prototypes"),
                                               args.views):
        for s in STEPS:
            a = per.xs((method_name(algo, head, views), s), level=("method", "S"))
            b = per.xs((method_name("random init", head, views), s),
                       level=("method", "S"))
            wins.append({"initialisation": method_name(algo, head, views), "S": s,
                         "beats random init on": f"{(a > b).mean():.0%}",
                         **against_sklearn(a)})
    present = set(per.index.droplevel(["dataset", "K"]))  # (method, S) pairs with results
    for algo, views in itertools.product(args.algos, args.views):
        if (picked_name(algo, views), -1) not in present:
            continue
        wins.append({"initialisation": picked_name(algo, views), "S": "CV",
                     "beats random init on": "",
                     **against_sklearn(per.xs((picked_name(algo, views), -1),
                                              level=("method", "S")))})
    return (f"# Few-shot, {args.split} split: held-out families {held}\n\ncommit {commit}; "
            f"{frame['dataset'].nunique()} held-out datasets, {args.repeats} draws each, "
            f"meta-training {args.steps} steps {' '.join(args.recipe)}, fine-tuning rate "
            f"{args.lr}, device {args.device}; {seconds:.0f} s\n\n"
            "## Mean balanced test accuracy\n\n"
            + markdown_table(mean.drop(columns="S").set_index("method"), 3)
            + "\n\n## Against random initialisation (at equal steps and head) and the best "
              "scikit-learn learner\n\n"
            + markdown_table(pd.DataFrame(wins).set_index("initialisation"), 3) + "\n")


PLOTTED = ("random init", "maml", "fomaml", "reptile", "random init, prototype head",
           "reptile, prototype head")


def _plot(frame, path: Path) -> None:
    """Accuracy against adaptation steps, one panel per K: the fine-tuned starts as
    lines, ProtoNet as points at 0 steps, the scikit-learn learner picked by CV and the
    test-picked oracle as flat dashed lines (plotly, self-contained)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=len(SHOTS), subplot_titles=[f"K = {k}" for k in SHOTS],
                        shared_yaxes=True)
    mean = frame.groupby(["method", "S", "K"])["accuracy"].mean().reset_index()
    protonets = sorted(m for m in mean["method"].unique() if m.startswith("protonet"))
    ensembles = sorted(m for m in mean["method"].unique()  # e.g. "reptile, 5 views"
                       if m.startswith("reptile, ") and m.endswith(" views")
                       and "prototype" not in m)
    methods = ([m for m in PLOTTED if m in set(mean["method"])] + ensembles + protonets
               + [CV_PICK, ORACLE])
    x_flat = [1, max(STEPS) + 1]
    for i, method in enumerate(methods):
        colour = _COLOURS[i % len(_COLOURS)]
        for j, k in enumerate(SHOTS):
            part = mean[(mean["method"] == method) & (mean["K"] == k)]
            if method in (CV_PICK, ORACLE):
                trace = go.Scatter(x=x_flat, y=[part["accuracy"].iloc[0]] * 2, mode="lines",
                                   line={"color": colour, "dash": "dash" if method == CV_PICK
                                         else "dot"})
            else:
                trace = go.Scatter(x=part["S"] + 1, y=part["accuracy"],
                                   mode="lines+markers" if len(part) > 1 else "markers",
                                   line={"color": colour, "dash": "dot" if "prototype" in method
                                         else "solid"}, marker={"size": 9})
            trace.update(name=method, legendgroup=method, showlegend=j == 0)
            fig.add_trace(trace, row=1, col=j + 1)
    fig.update_xaxes(type="log", title_text="adaptation steps S + 1")
    fig.update_yaxes(title_text="balanced accuracy (held-out families)", col=1)
    fig.update_layout(title="Few-shot: meta-learned starts, random init and scikit-learn",
                      height=640, width=1200, margin={"b": 170},
                      legend={"orientation": "h", "y": -0.2, "x": 0})
    fig.write_html(path, include_plotlyjs=True)


_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39"]


if __name__ == "__main__":
    raise SystemExit(main())
