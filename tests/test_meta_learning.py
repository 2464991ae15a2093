"""The functional meta-learning core: MAML, first-order MAML, Reptile, episodes."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

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
from automl_meta.meta_learning.episodes import InputMap, sample_episodes  # noqa: E402


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


def test_throughput_benchmark_runs_and_prints_a_table(capsys):
    from automl_meta.benchmarks.meta_throughput import main

    assert main(["--device", "cpu", "--tasks", "2", "--steps", "1"]) == 0
    out = capsys.readouterr().out
    assert "| maml |" in out and "| reptile |" in out and "speed-up" in out


TINY = dict(width=8, hidden=16, layers=1, n_out=10, k_shot=2, n_query=2,
            tasks_per_batch=3, inner_steps=1, steps=6)
NAMES = ["iris", "wine", "breast_cancer", "digits"]


def test_meta_training_resumes_where_it_stopped_and_saves_a_loadable_artifact(
        tmp_path, monkeypatch):
    from automl_meta.meta_learning import train

    recipe = train.Recipe(algorithm="maml", **TINY)
    straight = train.meta_train(recipe, tmp_path / "a.pt", device="cpu",
                                checkpoint_every=3, names=NAMES, progress=False)
    real_step, calls = train.meta_step, []

    def dies_on_the_fifth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(train, "meta_step", dies_on_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        train.meta_train(recipe, tmp_path / "b.pt", device="cpu", checkpoint_every=3,
                         names=NAMES, progress=False)
    assert (tmp_path / "b.pt.ckpt").exists() and not (tmp_path / "b.pt").exists()
    monkeypatch.setattr(train, "meta_step", real_step)
    resumed = train.meta_train(recipe, tmp_path / "b.pt", device="cpu", checkpoint_every=3,
                               names=NAMES, progress=False)
    a, meta_a = train.load_initialisation(straight)
    b, meta_b = train.load_initialisation(resumed)
    for (k, va), (_, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        torch.testing.assert_close(va, vb, msg=k)
    assert meta_a["losses"] == meta_b["losses"] and len(meta_a["losses"]) == 6
    assert meta_a["recipe"]["algorithm"] == "maml" and meta_a["corpus"] == meta_b["corpus"]
    assert {t.split(":")[1] for t in meta_a["tasks"]} == set(NAMES)  # sklearn's and KEEL's
    assert not (tmp_path / "b.pt.ckpt").exists()


def test_artifact_of_another_format_is_refused(tmp_path):
    from automl_meta.exceptions import AutoMLError
    from automl_meta.meta_learning import train

    path = train.meta_train(train.Recipe(algorithm="reptile", **{**TINY, "steps": 1}),
                            tmp_path / "r.pt", device="cpu", names=NAMES, progress=False)
    blob = torch.load(path, weights_only=True)
    blob["format"] = 99
    torch.save(blob, path)
    with pytest.raises(AutoMLError, match="format 99"):
        train.load_initialisation(path)


def test_cli_meta_train(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    cli = str(Path(sys.executable).parent / "automl-meta")
    out = subprocess.run([cli, "meta-train", "--algo", "fomaml", "--device", "cpu",
                          "--steps", "2", "--tasks-per-batch", "2", "--datasets", *NAMES,
                          "--out", str(tmp_path / "init.pt")], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Meta-learned initialisation saved to" in out.stdout
    assert (tmp_path / "init.pt").is_file()
