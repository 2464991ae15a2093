"""Few-shot benchmark: meta-learned initialisations against random initialisation.

    python -m automl_meta.benchmarks.few_shot [--steps 500] [--repeats 3] [--out DIR]

Held-out split (fixed): the corpus's classification dataset families sorted by name,
every fifth one (``families[::5]``) held out; MAML, first-order MAML and Reptile are
meta-trained on the others. On each held-out dataset with at most 10 classes, K = 5, 10
and 20 rows per class form the training set and up to 300 other rows the test set; a
network starting from each initialisation takes S = 0, 1, 5 and 25 full-batch gradient
steps on the K shots. Also: ProtoNet (nearest class mean in the meta-learned encoder's
embedding, from the FOMAML initialisation) and the best of three scikit-learn learners
(logistic regression, k-NN, random forest) on the same shots, chosen by its test score
(an optimistic baseline). The score is balanced accuracy: the test rows are as imbalanced
as the dataset (many KEEL sets are), and plain accuracy would reward the majority class.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SHOTS = (5, 10, 20)
STEPS = (0, 1, 5, 25)
ALGOS = ("maml", "fomaml", "reptile")


def held_out_families(families: Sequence[str]) -> list[str]:
    """The fixed held-out families: every fifth of the sorted family names.

    >>> held_out_families(["e", "d", "c", "b", "a", "f"])
    ['a', 'f']
    """
    return sorted(set(families))[::5]


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean recall over the classes present (the query sets are as imbalanced as the
    datasets; plain accuracy would reward predicting the majority class).

    >>> balanced_accuracy(np.array([0, 0, 0, 1]), np.array([0, 0, 0, 0]))
    0.5
    """
    return float(np.mean([(y_pred[y_true == c] == c).mean() for c in np.unique(y_true)]))


def _finetune_accuracy(model, X, y, Xq, yq, n_classes, steps: Sequence[int], lr: float
                       ) -> dict[int, float]:
    import copy

    import torch

    net = copy.deepcopy(model)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    x, t = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)
    xq = torch.as_tensor(Xq, dtype=torch.float32)
    out, done = {}, 0
    for s in sorted(steps):
        while done < s:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x)[:, :n_classes], t)
            loss.backward()
            opt.step()
            done += 1
        with torch.no_grad():
            pred = net(xq)[:, :n_classes].argmax(1).numpy()
        out[s] = balanced_accuracy(yq, pred)
    return out


def _protonet_accuracy(model, X, y, Xq, yq) -> float:
    import torch

    encoder = torch.nn.Sequential(*list(model.children())[:-1])
    with torch.no_grad():
        e = encoder(torch.as_tensor(X, dtype=torch.float32))
        eq = encoder(torch.as_tensor(Xq, dtype=torch.float32))
    protos = torch.stack([e[torch.as_tensor(y) == c].mean(0) for c in np.unique(y)])
    pred = torch.cdist(eq, protos).argmin(1).numpy()
    return balanced_accuracy(yq, np.unique(y)[pred])


def _sklearn_best(X, y, Xq, yq, seed: int) -> float:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    models = [LogisticRegression(max_iter=1000), KNeighborsClassifier(n_neighbors=3),
              RandomForestClassifier(n_estimators=100, random_state=seed)]
    return max(balanced_accuracy(yq, m.fit(X, y).predict(Xq)) for m in models)


def main(argv: Sequence[str] | None = None) -> int:
    import pandas as pd
    import torch

    from ..corpus.datasets import corpus_datasets
    from ..meta_learning.train import (
        Recipe,
        corpus_tasks,
        load_initialisation,
        meta_train,
        network,
    )
    from .warm_start import commit_hash, markdown_table

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=500, help="meta-training steps")
    parser.add_argument("--repeats", type=int, default=3, help="shot draws per dataset")
    parser.add_argument("--lr", type=float, default=0.1, help="fine-tuning learning rate")
    parser.add_argument("--out", default="benchmarks/few_shot")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    classification = [d for d in corpus_datasets(["sklearn", "keel"])
                      if d.task == "classification"]
    held = held_out_families([d.family for d in classification])
    inits = {}
    for algo in ALGOS:
        recipe = Recipe(algorithm=algo, steps=args.steps, exclude_families=held,
                        inner_lr=args.lr)
        path = meta_train(recipe, out / f"{algo}.pt", device="cpu", progress=False)
        inits[algo] = load_initialisation(path)[0]
        print(f"meta-trained {algo} ({time.perf_counter() - started:.0f} s)", flush=True)
    recipe = Recipe(exclude_families=[f for f in {d.family for d in classification}
                                      if f not in held])
    tasks, _ = corpus_tasks(recipe)
    rows = []
    for name, X, y in tasks:
        n_classes = len(np.unique(y))
        if n_classes > recipe.n_out:
            continue
        for k in SHOTS:
            for r in range(args.repeats):
                rng = np.random.default_rng([r, k])
                support = np.concatenate([
                    rng.choice(np.flatnonzero(y == c), size=min(k, int((y == c).sum()) - 1),
                               replace=False) for c in range(n_classes) if (y == c).sum() > 1])
                rest = np.setdiff1d(np.arange(len(y)), support)
                query = rng.choice(rest, size=min(300, len(rest)), replace=False)
                Xs, ys, Xq, yq = X[support], y[support], X[query], y[query]
                torch.manual_seed(r)
                random_init = network(recipe)
                for method, model in [("random init", random_init), *inits.items()]:
                    accs = _finetune_accuracy(model, Xs, ys, Xq, yq, n_classes, STEPS, args.lr)
                    for s, acc in accs.items():
                        rows.append({"dataset": name, "K": k, "repeat": r, "method": method,
                                     "S": s, "accuracy": acc})
                rows.append({"dataset": name, "K": k, "repeat": r, "method": "protonet",
                             "S": 0, "accuracy": _protonet_accuracy(inits["fomaml"], Xs, ys,
                                                                    Xq, yq)})
                rows.append({"dataset": name, "K": k, "repeat": r, "method": "best sklearn",
                             "S": -1, "accuracy": _sklearn_best(Xs, ys, Xq, yq, r)})
    frame = pd.DataFrame(rows)
    frame.to_csv(out / "results.csv", index=False)
    mean = frame.groupby(["method", "S", "K"])["accuracy"].mean().unstack("K")
    mean.columns = [f"K={k}" for k in mean.columns]
    per_dataset = frame.groupby(["dataset", "K", "method", "S"])["accuracy"].mean()
    wins = []
    for algo in ALGOS:
        for s in STEPS:
            a = per_dataset.xs((algo, s), level=("method", "S"))
            b = per_dataset.xs(("random init", s), level=("method", "S"))
            wins.append({"init": algo, "S": s, "beats random init on": f"{(a > b).mean():.0%}"})
    text = (f"# Few-shot, held-out families {held}\n\ncommit {commit_hash()}; "
            f"{frame['dataset'].nunique()} held-out datasets, {args.repeats} draws each, "
            f"meta-training {args.steps} steps; {time.perf_counter() - started:.0f} s\n\n"
            "## Mean balanced test accuracy\n\n"
            + markdown_table(mean.reset_index().set_index("method"), 3)
            + "\n\n## Share of (dataset, K) where the initialisation beats random init at "
              "equal steps\n\n" + markdown_table(pd.DataFrame(wins).set_index("init")) + "\n")
    (out / "table.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
