"""The functional meta-learning core: MAML, first-order MAML, Reptile, episodes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from automl_meta.corpus.meta_tasks import corpus_tasks  # noqa: E402
from automl_meta.learners.torch.initialisation import Recipe, load_initialisation  # noqa: E402
from automl_meta.learners.torch.input_map import InputMap  # noqa: E402
from automl_meta.meta_learning.core import (  # noqa: E402
    Episodes,
    InnerLoop,
    adapt,
    maml_gradient,
    meta_step,
    query_loss,
    reptile_direction,
    task_loss,
)
from automl_meta.meta_learning.episodes import sample_episodes  # noqa: E402


def _model(n_in=3, n_out=3):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(n_in, 4), nn.Tanh(), nn.Linear(4, n_out)).double()
    return model, {k: v.detach().clone() for k, v in model.named_parameters()}


def _episodes(tasks=3, support=6, query=5, n_in=3, n_out=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    mask = torch.ones(tasks, n_out, dtype=torch.bool)
    mask[:, -1] = False  # a 2-way task on 3 output units
    return Episodes(torch.randn(tasks, support, n_in, generator=g, dtype=torch.float64),
                    torch.randint(0, 2, (tasks, support), generator=g),
                    torch.randn(tasks, query, n_in, generator=g, dtype=torch.float64),
                    torch.randint(0, 2, (tasks, query), generator=g), mask)


def _finite_difference(f, params, eps=1e-6):
    out = {}
    for k, v in params.items():
        g = torch.zeros_like(v)
        for idx in np.ndindex(*v.shape):
            up = {a: b.clone() for a, b in params.items()}
            down = {a: b.clone() for a, b in params.items()}
            up[k][idx] += eps
            down[k][idx] -= eps
            g[idx] = (f(up) - f(down)) / (2 * eps)
        out[k] = g
    return out


def test_maml_meta_gradient_matches_finite_differences_through_the_inner_loop():
    model, params = _model()
    episodes, inner = _episodes(), InnerLoop(steps=2, lr=0.4)
    _, grads, _ = maml_gradient(model, params, episodes, inner)
    numeric = _finite_difference(lambda p: float(query_loss(model, p, episodes, inner)),
                                 params)
    for k in params:
        torch.testing.assert_close(grads[k], numeric[k], rtol=1e-5, atol=1e-7)


def test_first_order_maml_is_the_query_gradient_at_the_adapted_weights():
    model, params = _model()
    episodes, inner = _episodes(tasks=1), InnerLoop(steps=2, lr=0.4)
    _, first, _ = maml_gradient(model, params, episodes, inner, first_order=True)
    adapted = adapt(model, params, episodes.support_x[0], episodes.support_y[0],
                    episodes.class_mask[0], inner)
    leaves = {k: v.detach().requires_grad_(True) for k, v in adapted.items()}
    loss = task_loss(model, leaves, episodes.query_x[0], episodes.query_y[0],
                     episodes.class_mask[0])
    by_hand = dict(zip(leaves, torch.autograd.grad(loss, list(leaves.values())),
                       strict=True))
    for k in params:
        torch.testing.assert_close(first[k], by_hand[k])
    _, second, _ = maml_gradient(model, params, episodes, inner)
    assert not torch.allclose(second["0.weight"], first["0.weight"])  # second order differs
    _, zero_steps, _ = maml_gradient(model, params, episodes, InnerLoop(steps=0))
    _, zero_first, _ = maml_gradient(model, params, episodes, InnerLoop(steps=0),
                                     first_order=True)
    torch.testing.assert_close(zero_steps["2.bias"], zero_first["2.bias"])


def test_reptile_moves_the_initialisation_towards_each_tasks_adapted_weights():
    model, params = _model()
    episodes, inner = _episodes(tasks=2), InnerLoop(steps=3, lr=0.2)
    _, direction = reptile_direction(model, params, episodes, inner)
    phis = []
    for t in range(2):  # plain SGD by hand on support + query rows
        p = {k: v.clone().requires_grad_(True) for k, v in params.items()}
        x = torch.cat([episodes.support_x[t], episodes.query_x[t]])
        y = torch.cat([episodes.support_y[t], episodes.query_y[t]])
        for _ in range(3):
            loss = task_loss(model, p, x, y, episodes.class_mask[t])
            grads = torch.autograd.grad(loss, list(p.values()))
            p = {k: (v - 0.2 * g).detach().requires_grad_(True)
                 for (k, v), g in zip(p.items(), grads, strict=True)}
        phis.append(p)
    for k in params:
        expected = params[k] - (phis[0][k] + phis[1][k]).detach() / 2
        torch.testing.assert_close(direction[k], expected)
    # One meta step with SGD at rate eps: theta += eps * (mean(phi) - theta).
    theta = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    meta_step(model, theta, torch.optim.SGD(theta.values(), lr=0.5), episodes, inner,
              "reptile")
    for k in params:
        torch.testing.assert_close(theta[k].detach(), params[k] - 0.5 * direction[k])


def test_vmapped_batch_equals_a_loop_over_tasks():
    model, params = _model()
    episodes, inner = _episodes(tasks=4), InnerLoop(steps=2, lr=0.3)
    _, batched, _ = maml_gradient(model, params, episodes, inner)
    per_task = [maml_gradient(model, params, episodes.task(i), inner)[1] for i in range(4)]
    for k in params:
        torch.testing.assert_close(batched[k], sum(g[k] for g in per_task) / 4)


def test_masked_classes_get_no_probability_and_learned_inner_rates_get_gradients():
    model, params = _model()
    episodes = _episodes(tasks=2)
    out = torch.func.functional_call(model, params, (episodes.query_x[0],))
    logits = out.masked_fill(~episodes.class_mask[0], torch.finfo(out.dtype).min)
    assert torch.softmax(logits, -1)[:, -1].max() == 0
    lrs = {k: torch.full((), 0.3, dtype=torch.float64) for k in params}  # Meta-SGD
    _, _, lr_grads = maml_gradient(model, params, episodes, InnerLoop(steps=1), lrs=lrs)
    assert set(lr_grads) == set(params) and all(torch.isfinite(g) for g in lr_grads.values())
    with pytest.raises(ValueError, match="algorithm"):
        meta_step(model, params, torch.optim.SGD(params.values(), lr=0.1), episodes,
                  InnerLoop(), "anil")


def test_episodes_share_one_width_and_permute_label_units():
    rng = np.random.default_rng(0)
    wide = rng.normal(size=(60, 40)), rng.integers(0, 4, 60)
    narrow = rng.normal(size=(30, 5)), rng.integers(0, 3, 30)
    mapped = [(InputMap(width=16).fit(X).transform(X), y) for X, y in (wide, narrow)]
    episodes = sample_episodes(mapped, k_shot=5, n_query=3, n_out=6, rng=rng)
    assert episodes.support_x.shape == (2, 3 * 5, 16)  # 3-way: the smaller task's classes
    assert episodes.query_y.shape == (2, 9)
    assert episodes.class_mask.sum(1).tolist() == [3, 3]
    for t in range(2):  # labels sit on the unmasked units
        assert episodes.class_mask[t][episodes.support_y[t]].all()
    units = {tuple(np.flatnonzero(sample_episodes(mapped, k_shot=1, n_query=1, n_out=6,
                                                  rng=rng).class_mask[0].numpy()))
             for _ in range(20)}
    assert len(units) > 1  # a fresh assignment of classes to output units per episode


def test_input_map_views_put_columns_on_random_slots_with_random_signs():
    X = np.random.default_rng(0).normal(size=(40, 5))
    plain = InputMap(width=8).fit(X).transform(X)
    Z = plain[:, :5]
    np.testing.assert_array_equal(plain[:, 5:], 0)  # view 0: in order, zero padded
    placed = [InputMap(width=8, view=v).fit(X).transform(X) for v in (1, 2)]
    for out in placed:  # every column once, on its own slot, up to its sign
        matches = [[j for j in range(8) if np.allclose(np.abs(out[:, j]), np.abs(Z[:, i]))]
                   for i in range(5)]
        assert all(len(m) == 1 for m in matches) and len({m[0] for m in matches}) == 5
    assert not np.array_equal(placed[0], placed[1])
    np.testing.assert_array_equal(InputMap(width=8, view=1).fit(X).transform(X), placed[0])
    wide = np.random.default_rng(1).normal(size=(40, 20))
    a, b = (InputMap(width=8, view=v).fit(wide).transform(wide) for v in (0, 1))
    assert a.shape == b.shape == (40, 8) and not np.allclose(a, b)  # another projection


def test_pca_input_map_keeps_every_direction_the_training_rows_span():
    rng = np.random.default_rng(0)
    X, new = rng.normal(size=(12, 60)), rng.normal(size=(5, 60))
    for view in (0, 3):
        pca = InputMap(width=32, reduce="pca", view=view).fit(X)
        Z, scaled = pca.transform(X), pca._scaled(X)
        assert Z.shape == (12, 32)
        # the rows' geometry is intact: a model fitted on them loses nothing
        np.testing.assert_allclose(Z @ Z.T, scaled @ scaled.T, atol=1e-8)
        assert pca.transform(new).shape == (5, 32)
    random = InputMap(width=32).fit(X)
    gram = random.transform(X) @ random.transform(X).T
    assert not np.allclose(gram, random._scaled(X) @ random._scaled(X).T, atol=1e-2)
    np.testing.assert_array_equal(InputMap(width=8, reduce="pca").fit(X[:, :5]).transform(
        X[:, :5]), InputMap(width=8).fit(X[:, :5]).transform(X[:, :5]))  # narrow: padded
    with pytest.raises(ValueError, match="reduce"):
        InputMap(reduce="umap").fit(X)
    for reduce, data in [("pca", X), ("random", X), ("random", X[:, :5])]:
        # a learner's views come from one fitted map: the same as fitting each view
        fitted = InputMap(width=32, reduce=reduce).fit(data)
        np.testing.assert_array_equal(
            fitted.with_view(2).transform(new[:, :data.shape[1]]),
            InputMap(width=32, reduce=reduce, view=2).fit(data).transform(
                new[:, :data.shape[1]]))


def test_augmented_episodes_show_each_task_through_a_fresh_view():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    used = set()
    for _ in range(10):
        e = sample_episodes([(X, y)], k_shot=4, n_query=2, n_out=2, rng=rng,
                            input_map=(8, 0, "random"), augment=True)
        slots = tuple(np.flatnonzero(e.support_x[0].abs().sum(0).numpy()))
        assert len(slots) == 3
        used.add(slots)
    assert len(used) > 1  # the three columns land on other slots
    plain = sample_episodes([(X, y)], k_shot=4, n_query=2, n_out=2, rng=rng,
                            input_map=(8, 0, "random"))
    assert np.flatnonzero(plain.support_x[0].abs().sum(0).numpy()).tolist() == [0, 1, 2]


def test_throughput_benchmark_runs_and_prints_a_table(capsys):
    from automl_meta.benchmarks.meta_throughput import main

    assert main(["--device", "cpu", "--tasks", "2", "--steps", "1"]) == 0
    out = capsys.readouterr().out
    assert "| maml |" in out and "| reptile |" in out and "speed-up" in out


TINY = dict(width=8, hidden=16, layers=1, n_out=10, k_shot=2, n_query=2,
            tasks_per_batch=3, inner_steps=1, steps=6)
NAMES = ["wine", "breast_cancer", "digits"]


def _interrupted_then_resumed(train, recipe, out, monkeypatch):
    """Meta-train ``recipe`` to ``out``, interrupted (Ctrl-C) at the fifth outer step with
    checkpoints every 3, then run again to resume; returns the artifact path."""
    real_step, calls = train.meta_step, []

    def dies_on_the_fifth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(train, "meta_step", dies_on_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        train.meta_train(recipe, out, device="cpu", checkpoint_every=3, source=corpus_tasks(NAMES),
                         progress=False)
    assert out.with_name(out.name + ".ckpt").exists() and not out.exists()
    monkeypatch.setattr(train, "meta_step", real_step)
    return train.meta_train(recipe, out, source=corpus_tasks(NAMES), device="cpu",
                            checkpoint_every=3, progress=False)


def test_meta_training_resumes_where_it_stopped_and_saves_a_loadable_artifact(
        tmp_path, monkeypatch):
    from automl_meta.meta_learning import train

    recipe = Recipe(algorithm="maml", **TINY)
    straight = train.meta_train(recipe, tmp_path / "a.pt", device="cpu",
                                checkpoint_every=3, source=corpus_tasks(NAMES), progress=False)
    resumed = _interrupted_then_resumed(train, recipe, tmp_path / "b.pt", monkeypatch)
    a, meta_a = load_initialisation(straight)
    b, meta_b = load_initialisation(resumed)
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        torch.testing.assert_close(va, vb, msg=k)
    assert meta_a["losses"] == meta_b["losses"] and len(meta_a["losses"]) == 6
    assert meta_a["recipe"]["algorithm"] == "maml" and meta_a["corpus"] == meta_b["corpus"]
    assert {t.split(":")[1] for t in meta_a["tasks"]} == set(NAMES)  # sklearn's and KEEL's
    assert not (tmp_path / "b.pt.ckpt").exists()


def test_meta_sgd_learns_an_inner_rate_per_weight_and_resumes_them(tmp_path, monkeypatch):
    """``meta_sgd``: the inner learning rates start at ``inner_lr``, are learned with the
    weights (they move), are saved in the artifact and restored from a checkpoint; Reptile
    cannot learn them and says so."""
    from automl_meta.meta_learning import train

    recipe = Recipe(algorithm="fomaml", meta_sgd=True, **TINY)
    straight = train.meta_train(recipe, tmp_path / "a.pt", device="cpu",
                                checkpoint_every=3, source=corpus_tasks(NAMES), progress=False)
    net, meta = load_initialisation(straight)
    rates = meta["inner_lrs"]
    assert rates.keys() == net.state_dict().keys()
    for k, v in net.state_dict().items():
        assert rates[k].shape == v.shape
        assert not torch.allclose(rates[k], torch.full_like(v, recipe.inner_lr))
    _, resumed = load_initialisation(
        _interrupted_then_resumed(train, recipe, tmp_path / "b.pt", monkeypatch))
    for k in rates:
        torch.testing.assert_close(rates[k], resumed["inner_lrs"][k], msg=k)
    plain = train.meta_train(Recipe(**{**TINY, "steps": 1}), tmp_path / "p.pt",
                             device="cpu", source=corpus_tasks(NAMES), progress=False)
    assert load_initialisation(plain)[1]["inner_lrs"] is None
    with pytest.raises(ValueError, match="Reptile"):
        Recipe(algorithm="reptile", meta_sgd=True)


def test_artifact_of_another_format_is_refused(tmp_path):
    from automl_meta.exceptions import AutoMLError
    from automl_meta.meta_learning import train

    path = train.meta_train(Recipe(algorithm="reptile", **{**TINY, "steps": 1}),
                            tmp_path / "r.pt", source=corpus_tasks(NAMES), device="cpu",
                            progress=False)
    blob = torch.load(path, weights_only=True)
    blob["format"] = 99
    torch.save(blob, path)
    with pytest.raises(AutoMLError, match="format 99"):
        load_initialisation(path)


def test_an_artifact_from_before_a_recipe_field_existed_loads_with_its_default(tmp_path):
    from automl_meta.meta_learning import train

    path = train.meta_train(Recipe(**{**TINY, "steps": 1}), tmp_path / "r.pt",
                            device="cpu", source=corpus_tasks(NAMES), progress=False)
    blob = torch.load(path, weights_only=True)
    for field in ("augment", "reduce", "synthetic", "meta_sgd"):  # added after the first
        del blob["recipe"][field]
    del blob["inner_lrs"]
    torch.save(blob, path)
    _, meta = load_initialisation(path)
    assert meta["recipe"]["reduce"] == "random" and meta["recipe"]["augment"] is False
    assert meta["recipe"]["synthetic"] == 0.0 and meta["recipe"]["meta_sgd"] is False
    assert meta["inner_lrs"] is None
    with pytest.raises(ValueError, match="reduce"):
        Recipe(reduce="umap")


def test_cli_meta_train(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    cli = str(Path(sys.executable).parent / "automl-meta")
    out = subprocess.run([cli, "meta-train", "--algo", "fomaml", "--device", "cpu",
                          "--steps", "2", "--tasks-per-batch", "2", "--synthetic", "0.5",
                          "--meta-sgd",
                          "--datasets", *NAMES, "--out", str(tmp_path / "init.pt")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Meta-learned initialisation saved to" in out.stdout
    recipe = load_initialisation(tmp_path / "init.pt")[1]["recipe"]
    assert recipe["algorithm"] == "fomaml" and recipe["synthetic"] == 0.5
    assert recipe["meta_sgd"] is True


def test_few_shot_summary_compares_each_start_and_view_count_with_its_controls():
    import argparse

    import pandas as pd

    from automl_meta.benchmarks.few_shot import (
        CV_PICK,
        ORACLE,
        STEPS,
        method_name,
        picked_name,
        summary,
    )
    from automl_meta.benchmarks.warm_start import markdown_table

    rows = []
    family = {"a": "x", "b": "y", "c": "y"}
    for dataset, k in [("a", 5), ("b", 5), ("c", 5), ("a", 20)]:
        base = {"dataset": dataset, "family": family[dataset], "K": k, "repeat": 0}
        rows += [{**base, "method": CV_PICK, "S": -1, "accuracy": 0.7},
                 {**base, "method": ORACLE, "S": -1, "accuracy": 0.8},
                 {**base, "method": picked_name("reptile", 5), "S": -1,
                  "accuracy": 0.76 if dataset == "a" else 0.7}]
        for init, head, views, s in itertools.product(
                ("random init", "reptile"), ("meta", "prototypes"), (1, 5), STEPS):
            accuracy = 0.6 + 0.1 * (init == "reptile") + 0.05 * (views == 5)
            rows.append({**base, "method": method_name(init, head, views), "S": s,
                         "accuracy": accuracy})
    args = argparse.Namespace(algos=["reptile"], views=[1, 5], split="validation",
                              repeats=1, steps=10, recipe=[], lr=0.1, device="cpu")
    text = summary(pd.DataFrame(rows), ["x"], args, "abc", 1.0, markdown_table)
    assert text.startswith("# Few-shot, validation split: held-out families ['x']")
    # reptile with 5 views: 0.75 on K <= 10 against the CV pick's 0.7, oracle's 0.8
    assert "| reptile, 5 views | 5 | 100% | 0.050 | 100% | 0.050 | -0.050 |" in text
    assert "| reptile | 25 | 100% | 0.000 | 0% | 0.000 | -0.100 |" in text
    # --cv-pick's row (one view count here): +0.06 on a (family x), 0 on b and c (both y):
    # 0.02 per dataset, 0.03 per family
    assert ("| reptile, 5 views, head and steps picked by CV | CV |  | 0.020 | 33% | 0.030 "
            "| -0.080 |") in text
    assert "reptile, head and steps picked by CV" not in text


def test_generated_tasks_are_standardised_reproducible_and_keep_two_usable_classes():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import balanced_accuracy_score

    from automl_meta.meta_learning.synthetic import _GENERATE, GENERATORS, synthetic_task

    tables = [synthetic_task(np.random.default_rng(s), n_rows=120, min_rows=5)
              for s in range(40)]
    again = synthetic_task(np.random.default_rng(7), n_rows=120, min_rows=5)
    np.testing.assert_array_equal(again[0], tables[7][0])
    np.testing.assert_array_equal(again[1], tables[7][1])
    widths, class_counts = set(), set()
    for X, y in tables:
        counts = np.bincount(y)
        assert X.dtype == np.float32 and np.isfinite(X).all() and len(X) == len(y)
        assert len(counts) >= 2 and counts.min() >= 5  # classes 0..n-1, none too small
        np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-4)
        widths.add(X.shape[1])
        class_counts.add(len(counts))
    assert len(widths) > 10 and {2, 3} <= class_counts  # varied shapes
    for kind in GENERATORS:  # each generator's labels are learnable from the columns
        X, y = _GENERATE[kind](np.random.default_rng(1), 400, 6, 2)
        assert set(np.unique(y)) == {0, 1}
        forest = RandomForestClassifier(random_state=0).fit(X[:300], y[:300])
        assert balanced_accuracy_score(y[300:], forest.predict(X[300:])) > 0.65, kind
    with pytest.raises(ValueError, match="two classes"):
        synthetic_task(np.random.default_rng(0), n_rows=8, min_rows=5)


def test_a_synthetic_share_mixes_generated_tasks_into_meta_training(tmp_path):
    from automl_meta.meta_learning import train

    with pytest.raises(ValueError, match="synthetic"):
        Recipe(synthetic=1.5)
    paths = [train.meta_train(Recipe(**{**TINY, "steps": 3, "synthetic": share}),
                              tmp_path / f"s{share}.pt", device="cpu", source=corpus_tasks(NAMES),
                              progress=False) for share in (0.0, 1.0)]
    (a, meta_a), (b, meta_b) = (load_initialisation(p) for p in paths)
    assert meta_b["recipe"]["synthetic"] == 1.0 and meta_a["corpus"] == meta_b["corpus"]
    assert meta_a["losses"] != meta_b["losses"]  # other tasks, other steps
    again, _ = load_initialisation(train.meta_train(
        Recipe(**{**TINY, "steps": 3, "synthetic": 1.0}), tmp_path / "again.pt",
        device="cpu", source=corpus_tasks(NAMES), progress=False))
    for (k, v), (_, w) in zip(b.state_dict().items(), again.state_dict().items(),
                              strict=True):
        torch.testing.assert_close(v, w, msg=k)  # seeded: generated tasks reproduce
