"""The learners on the meta-learned initialisation: mlp_meta and protonet, in and out of
a search."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from automl_meta.exceptions import DataError  # noqa: E402
from automl_meta.learners import LEARNERS, available_learners  # noqa: E402
from automl_meta.learners.torch.initialisation import (  # noqa: E402
    load_cached_initialisation,
    shipped_initialisation,
)
from automl_meta.learners.torch.meta import (  # noqa: E402
    MAX_BATCH,
    MetaMLPClassifier,
    MetaMLPRegressor,
    ProtoNetClassifier,
)

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _blobs(n=60, classes=3, d=6, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3, size=(classes, d))
    y = np.arange(n) % classes
    return centres[y] + rng.normal(size=(n, d)), y


def test_the_shipped_initialisation_loads_without_a_network():
    path = shipped_initialisation()
    assert path.name == "meta_init.pt" and path.is_file()
    net, recipe, _ = load_cached_initialisation()
    assert recipe["algorithm"] in ("maml", "fomaml", "reptile")
    assert net[0].in_features == recipe["width"] and net[-1].out_features == recipe["n_out"]
    assert load_cached_initialisation()[0] is net  # read once per process


def _with_rates(tmp_path, name, rates_for):
    """The shipped initialisation as a Meta-SGD artifact whose learned rates are
    ``rates_for(parameter name, weights)``."""
    blob = torch.load(shipped_initialisation(), weights_only=True)
    blob["recipe"] = {**blob["recipe"], "algorithm": "fomaml", "meta_sgd": True}
    blob["inner_lrs"] = {k: rates_for(k, v) for k, v in blob["state_dict"].items()}
    torch.save(blob, tmp_path / name)
    return str(tmp_path / name)


@pytest.mark.parametrize("head", ["meta", "prototypes"])
def test_mlp_meta_fine_tunes_at_the_meta_sgd_rates(tmp_path, head):
    """With learned rates, each weight steps at its own rate times ``learning_rate`` over
    the recipe's inner rate: rates all equal to that inner rate are plain SGD; twice it at
    half the learning rate, the same again; zero on the hidden layers is head-only
    fine-tuning."""
    X, y = _blobs()
    blob = torch.load(shipped_initialisation(), weights_only=True)
    base, output_layer = blob["recipe"]["inner_lr"], list(blob["state_dict"])[-2:]

    def fit(init, **kw):
        model = MetaMLPClassifier(steps=5, head=head, views=2, init=init, device="cpu", **kw)
        return model.fit(X, y).predict_proba(X)

    plain = fit(None, learning_rate=base)
    same = _with_rates(tmp_path, "same.pt", lambda k, v: torch.full_like(v, base))
    twice = _with_rates(tmp_path, "twice.pt", lambda k, v: torch.full_like(v, 2 * base))
    np.testing.assert_allclose(fit(same, learning_rate=base), plain, atol=1e-6)
    np.testing.assert_allclose(fit(twice, learning_rate=base / 2), plain, atol=1e-6)
    head_only = _with_rates(tmp_path, "head.pt", lambda k, v: torch.full_like(
        v, base if k in output_layer else 0.0))
    np.testing.assert_allclose(fit(head_only, learning_rate=base),
                               fit(None, learning_rate=base, adapt="head"), atol=1e-6)
    assert not np.allclose(fit(head_only, learning_rate=base), plain, atol=1e-3)


@pytest.mark.parametrize("learning_rate, steps", [
    (0.773, 22),  # to NaN: this configuration failed on every corpus regression dataset
    (0.657, 7),   # to a finite blow-up: training R² -1.03 here, -3.6e22 on other rows
])
def test_a_diverging_fine_tune_keeps_its_best_weights(learning_rate, steps):
    """At a learning rate too high for the data, full fine-tuning of a regression head
    diverges within a few steps. It keeps the weights of its lowest training loss instead,
    which is at most the starting point's, the mean predictor: training R² >= 0."""
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:300]
    y = y[:300]
    model = MetaMLPRegressor(learning_rate=learning_rate, steps=steps, views=4,
                             device="cpu").fit(X, y)
    pred = model.predict(X)
    assert np.isfinite(pred).all()
    assert 1 - ((pred - y) ** 2).mean() / y.var() >= 0


def test_a_missing_initialisation_is_an_error_naming_the_file_and_the_fix(tmp_path):
    from automl_meta.exceptions import AutoMLError

    X, y = _blobs()
    with pytest.raises(AutoMLError, match=r"nothing\.pt.*AUTOML_META_INIT.*meta-train"):
        ProtoNetClassifier(init=str(tmp_path / "nothing.pt"), device="cpu").fit(X, y)


def test_protonet_generates_its_output_layer_from_the_class_prototypes():
    X, y = _blobs()
    model = ProtoNetClassifier(device="cpu").fit(X, np.array(["a", "b", "c"])[y])
    encoder = model.network_[0]
    with torch.no_grad():
        mapping = model.members_[0][0]
        e = encoder(torch.as_tensor(mapping.transform(X), dtype=torch.float32))
        protos = torch.stack([e[torch.as_tensor(y) == c].mean(0) for c in range(3)])
        distances = torch.cdist(e, protos) ** 2
    # logits: minus squared distances, on the scale of the rows' own distance to their class
    spread = distances[torch.arange(len(y)), torch.as_tensor(y)].mean()
    expected = torch.softmax(-distances / spread, dim=1).numpy()
    np.testing.assert_allclose(model.predict_proba(X), expected, atol=1e-4)
    sharper = ProtoNetClassifier(temperature=0.5, device="cpu").fit(X, y)
    np.testing.assert_allclose(sharper.predict_proba(X),
                               torch.softmax(-distances / (0.5 * spread), 1).numpy(),
                               atol=1e-4)
    assert list(model.predict(X[:3])) == ["a", "b", "c"]  # well-separated blobs
    cosine = ProtoNetClassifier(distance="cosine", temperature=0.1, device="cpu").fit(X, y)
    assert (cosine.predict(X) == y).mean() > 0.9


def test_a_prototype_head_with_no_steps_is_protonet():
    X, y = _blobs(seed=1)
    proto = ProtoNetClassifier(device="cpu").fit(X, y)
    meta = MetaMLPClassifier(steps=0, head="prototypes", device="cpu").fit(X, y)
    np.testing.assert_allclose(meta.predict_proba(X), proto.predict_proba(X), atol=1e-5)


def test_fine_tuning_learns_and_head_only_keeps_the_meta_learned_features():
    X, y = _blobs(n=90, seed=2)
    start = MetaMLPClassifier(steps=0, device="cpu").fit(X, y)
    tuned = MetaMLPClassifier(steps=50, learning_rate=0.1, device="cpu").fit(X, y)
    head = MetaMLPClassifier(steps=50, adapt="head", device="cpu").fit(X, y)
    assert (tuned.predict(X) == y).mean() > 0.95
    assert (tuned.predict(X) == y).mean() > (start.predict(X) == y).mean()
    net, _, _ = load_cached_initialisation()
    first = net[0].weight
    torch.testing.assert_close(head.network_[0].weight, first)  # frozen encoder
    assert not torch.allclose(tuned.network_[0].weight, first)  # every layer adapted
    assert not torch.allclose(head.network_[-1].weight, start.network_[-1].weight)


def test_more_classes_than_output_units_get_prototype_units():
    X, y = _blobs(n=120, classes=12, seed=3)
    model = MetaMLPClassifier(steps=5, device="cpu").fit(X, y)
    assert model.predict_proba(X).shape == (120, 12)


def test_fits_are_deterministic_including_mini_batches_and_sample_weights():
    X, y = _blobs(n=MAX_BATCH + 100, classes=2, seed=4)
    w = np.random.default_rng(0).uniform(0.5, 2, len(y))
    a = MetaMLPClassifier(steps=8, random_state=3, device="cpu").fit(X, y, sample_weight=w)
    b = MetaMLPClassifier(steps=8, random_state=3, device="cpu").fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = MetaMLPClassifier(steps=8, random_state=4, device="cpu").fit(X, y, sample_weight=w)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))  # other batches


def test_regression_fine_tunes_a_fresh_output_unit():
    from sklearn.datasets import make_friedman1

    X, y = make_friedman1(n_samples=300, random_state=0)
    model = MetaMLPRegressor(steps=200, learning_rate=0.05, device="cpu").fit(X, y)
    assert model.score(X, y) > 0.6
    assert MetaMLPRegressor(steps=0, device="cpu").fit(X, y).score(X, y) == pytest.approx(
        0.0, abs=1e-9)  # a zero output unit predicts the mean


def test_views_fine_tune_one_network_per_view_and_average_them():
    X, y = _blobs(seed=5)
    one = MetaMLPClassifier(steps=5, device="cpu").fit(X, y)
    three = MetaMLPClassifier(steps=5, views=3, device="cpu").fit(X, y)
    assert len(three.members_) == 3
    members = [torch.softmax(net(torch.as_tensor(m.transform(X), dtype=torch.float32))
                             .double(), 1).numpy() for m, net in three.members_]
    np.testing.assert_allclose(members[0], one.predict_proba(X), atol=1e-6)  # view 0 alone
    assert not np.allclose(members[0], members[1], atol=1e-3)
    np.testing.assert_allclose(three.predict_proba(X), np.mean(members, axis=0), atol=1e-6)
    reg = MetaMLPRegressor(steps=5, views=2, device="cpu").fit(X, X[:, 0])
    alone = MetaMLPRegressor(steps=5, device="cpu").fit(X, X[:, 0]).predict(X)
    mapping, net = reg.members_[1]
    with torch.no_grad():
        second = net(torch.as_tensor(mapping.transform(X), dtype=torch.float32))[:, 0]
    second = second.numpy() * reg.y_scale_ + reg.y_mean_
    np.testing.assert_allclose(reg.predict(X), (alone + second) / 2, atol=1e-5)
    with pytest.raises(ValueError, match="views"):
        MetaMLPClassifier(views=0, device="cpu").fit(X, y)


def test_bad_hyperparameters_are_named():
    X, y = _blobs()
    with pytest.raises(ValueError, match="adapt"):
        MetaMLPClassifier(adapt="middle", device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="distance"):
        ProtoNetClassifier(distance="manhattan", device="cpu").fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the machine without CUDA")
def test_asking_for_cuda_without_it_fails_the_trial_with_a_clear_reason(fast):
    from automl_meta import AutoMLClassifier

    X, y = _blobs()
    model = AutoMLClassifier(**{**fast, "n_trials": 2}, learners=["linear", "protonet"],
                             device="cuda").fit(X, y)
    failed = [t for t in model.study_.trials if t.params["learner"] == "protonet"]
    assert failed[0].user_attrs["failure_reason"] == "error"
    assert "sees no CUDA device" in failed[0].user_attrs["failure_message"]
    assert model.best_config_["learner"] == "linear"  # the search went on
    with pytest.raises(ValueError, match="device must be"):
        AutoMLClassifier(**fast, device="tpu").fit(X, y)


def test_the_meta_learners_are_searched_by_default_and_protonet_only_classifies():
    clf = available_learners(None, 300, "classification")
    reg = available_learners(None, 300, "regression")
    assert {"mlp", "mlp_meta", "protonet"} <= set(clf)
    assert "mlp_meta" in reg and "protonet" not in reg
    assert LEARNERS["protonet"].tasks == ("classification",)
    with pytest.raises(DataError, match="protonet is for classification only"):
        available_learners(["linear", "protonet"], 300, "regression")


def test_fit_on_a_small_dataset_tries_mlp_meta_and_protonet_from_the_warm_start(
        monkeypatch):
    """Done means: with the shipped knowledge base and initialisation, a fit on a few
    hundred rows shows mlp_meta and protonet trials; the knowledge base holds their
    evidence, so the warm start proposes them among the other families."""
    from sklearn.datasets import make_classification

    from automl_meta import AutoMLClassifier
    from automl_meta.knowledge.storage import SHIPPED_KNOWLEDGE_ENV
    from automl_meta.warm_start.suggest import WARM_START_TRIALS

    monkeypatch.delenv(SHIPPED_KNOWLEDGE_ENV)  # the shipped knowledge base
    X, y = make_classification(n_samples=300, n_features=8, n_informative=4, n_classes=3,
                               random_state=7)
    model = AutoMLClassifier(n_trials=WARM_START_TRIALS, cv=3, storage="memory",
                             verbose=0, learners=["linear", "knn", "mlp_meta", "protonet"],
                             random_state=0).fit(X, y)
    board = model.leaderboard()
    trials = model.study_.trials
    assert all(t.user_attrs["origin"].startswith("warm-start") for t in trials)
    neural = [t for t in trials if t.params["learner"] in ("mlp_meta", "protonet")]
    assert {t.params["learner"] for t in neural} == {"mlp_meta", "protonet"}
    assert {"mlp_meta", "protonet"} <= set(board["learner"])
    assert board.loc[board["learner"] == "protonet", "score"].notna().all()
    assert all(t.user_attrs.get("device") == "cpu" for t in neural) or torch.cuda.is_available()


def test_a_study_records_the_initialisation_its_neural_trials_start_from(
        tmp_path, monkeypatch):
    """The study names the artifact (file and digest) when mlp_meta or protonet is
    searched, follows $AUTOML_META_INIT, and records nothing when neither is."""
    import hashlib
    import shutil

    from automl_meta import AutoMLClassifier

    X, y = _blobs(n=45)
    shipped = shipped_initialisation()
    fit = dict(n_trials=1, cv=3, storage="memory", verbose=0, warm_start=False,
               isolation="none")
    model = AutoMLClassifier(learners=["protonet"], **fit).fit(X, y)
    assert model.study_.user_attrs["meta_init"] == {
        "file": str(shipped), "sha256": hashlib.sha256(shipped.read_bytes()).hexdigest()[:16]}
    other = tmp_path / "other.pt"
    shutil.copy(shipped, other)
    monkeypatch.setenv("AUTOML_META_INIT", str(other))
    model = AutoMLClassifier(learners=["protonet"], **fit).fit(X, y)
    assert model.study_.user_attrs["meta_init"]["file"] == str(other)
    plain = AutoMLClassifier(learners=["linear"], **fit).fit(X, y)
    assert "meta_init" not in plain.study_.user_attrs


def test_the_surrogate_has_no_opinion_on_families_it_never_saw(monkeypatch):
    """The BO prior mean for a family the knowledge base holds no trials of is neutral
    (0.5), not an extrapolation; the shipped knowledge base holds the neural families'."""
    from automl_meta.corpus.build import PORTFOLIO_LEARNERS
    from automl_meta.knowledge import KnowledgeBase
    from automl_meta.knowledge.storage import SHIPPED_KNOWLEDGE_ENV, shipped_knowledge_url
    from automl_meta.search_space import default_configs
    from automl_meta.warm_start import build_proposal_model
    from automl_meta.warm_start.suggest import proposal_model_for

    monkeypatch.delenv(SHIPPED_KNOWLEDGE_ENV)
    shipped = proposal_model_for().tasks["classification"]
    blind = build_proposal_model(KnowledgeBase(shipped_knowledge_url()),
                                 learners=PORTFOLIO_LEARNERS).tasks["classification"]
    assert {"mlp_meta", "protonet"} <= set(shipped.learners)
    assert "protonet" not in blind.learners and "linear" in blind.learners
    configs = default_configs(["linear", "protonet", "mlp_meta"], "classification")
    query = np.zeros(len(blind.feature_names))
    predicted = blind.predict(query, configs)
    assert predicted[1] == predicted[2] == 0.5
    assert predicted[0] == blind.predict(query, configs[:1])[0] != 0.5
    assert (shipped.predict(query, configs[1:]) != 0.5).all()


def test_a_fitted_meta_learner_pickles_without_the_artifact(tmp_path, monkeypatch):
    import pickle

    X, y = _blobs()
    model = MetaMLPClassifier(steps=3, device="cpu").fit(X, y)
    blob = pickle.dumps(model)
    monkeypatch.setenv("AUTOML_META_INIT", str(tmp_path / "gone.pt"))
    np.testing.assert_array_equal(pickle.loads(blob).predict_proba(X), model.predict_proba(X))


@pytest.mark.gpu
@CUDA
def test_a_search_runs_its_torch_trials_on_cuda_in_the_worker_only():
    from sklearn.datasets import load_breast_cancer

    from automl_meta import AutoMLClassifier

    X, y = load_breast_cancer(return_X_y=True)
    model = AutoMLClassifier(n_trials=3, cv=3, storage="memory", verbose=0,
                             warm_start=False, learners=["mlp_meta", "protonet", "mlp"],
                             device="cuda").fit(X, y)
    devices = {t.params["learner"]: t.user_attrs.get("device") for t in model.study_.trials}
    assert devices == {"protonet": "cuda", "mlp_meta": "cuda", "mlp": "cuda"}
    # The driver never touched CUDA (this runs before the test below initialises it here).
    assert not torch.cuda.is_initialized()


@pytest.mark.gpu
@CUDA
def test_cuda_and_cpu_give_the_same_models_up_to_float_rounding():
    X, y = _blobs(n=MAX_BATCH + 200, classes=4, seed=5)
    for make in (lambda d: MetaMLPClassifier(steps=25, device=d),
                 lambda d: MetaMLPClassifier(steps=25, head="prototypes", adapt="head",
                                             device=d),
                 lambda d: ProtoNetClassifier(device=d)):
        cpu, gpu = make("cpu").fit(X, y), make("cuda").fit(X, y)
        assert cpu.device_ == "cpu" and gpu.device_ == "cuda"
        np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), atol=1e-4)
    reg_cpu = MetaMLPRegressor(steps=25, device="cpu").fit(X, y.astype(float))
    reg_gpu = MetaMLPRegressor(steps=25, device="cuda").fit(X, y.astype(float))
    np.testing.assert_allclose(reg_gpu.predict(X), reg_cpu.predict(X), rtol=1e-3, atol=1e-3)
