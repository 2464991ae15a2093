"""A storage conformance suite: what automl-meta needs of a study storage, written once
and run against every backend (in-memory, SQLite, PostgreSQL, or a new one).

Subclass :class:`StorageConformance` in a test module and give it a ``storage`` fixture
that returns a fresh, empty Optuna storage (and ``shares_data`` saying whether workers can
join through it: a database storage); pytest runs every ``test_`` method against it::

    class TestMyBackend(StorageConformance):
        shares_data = True

        @pytest.fixture
        def storage(self, tmp_path):
            return get_storage(f"sqlite:///{tmp_path / 'studies.db'}")
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..attributes import STUDY_FINGERPRINT, STUDY_UID


def _fit(storage: Any, seed: int = 0, n_trials: int = 2, study_name: str = "conformance",
         **kwargs: Any) -> Any:
    from ..automl import AutoMLClassifier

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=80) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AutoMLClassifier(n_trials=n_trials, storage=storage, study_name=study_name,
                                learners=["linear", "knn"], warm_start=False, cv=3,
                                isolation="none", verbose=0, **kwargs).fit(X, y)


class StorageConformance:
    """The behaviours every study storage must show; see the module docstring."""

    shares_data = False

    def test_a_fit_is_an_experience_the_knowledge_base_reads(self, storage: Any) -> None:
        from ..knowledge import KnowledgeBase

        model = _fit(storage)
        datasets = KnowledgeBase(storage).datasets()
        assert len(datasets) == 1
        row = datasets.iloc[0]
        assert row["n_rows"] == 80 and row["task"] == "classification"
        assert model.study_.user_attrs[STUDY_FINGERPRINT] == datasets.index[0]

    def test_a_study_name_continues_its_study(self, storage: Any) -> None:
        _fit(storage, n_trials=2)
        model = _fit(storage, n_trials=2)
        trials = model.study_.trials
        assert len(trials) == 4 and all(t.state.name == "COMPLETE" for t in trials)
        assert model.best_score_ == max(t.value for t in trials)

    def test_export_and_import_lose_nothing_and_carry_no_data(self, storage: Any,
                                                              tmp_path: Path) -> None:
        from ..knowledge import KnowledgeBase, export_knowledge, import_knowledge
        from ..knowledge.storage import get_storage
        from ..search.payload import stored_payloads

        _fit(storage, seed=0, study_name="a")
        _fit(storage, seed=1, study_name="b", share_data=self.shares_data)
        exported = tmp_path / "export.db"
        export_knowledge(storage, exported)
        target = get_storage(f"sqlite:///{tmp_path / 'target.db'}")
        import_knowledge(exported, target)
        import_knowledge(exported, target)  # idempotent
        before = KnowledgeBase(storage).datasets().sort_index()
        after = KnowledgeBase(target).datasets().sort_index()
        assert list(after.index) == list(before.index)
        assert after["n_trials"].tolist() == before["n_trials"].tolist()
        assert stored_payloads(get_storage(f"sqlite:///{exported}")) == {}

    def test_shared_data_is_stored_while_shared_and_read_back(self, storage: Any) -> None:
        if not self.shares_data:
            return  # workers cannot join an in-process storage; nothing is stored there
        from ..search.payload import load_payload, stored_payloads

        model = _fit(storage, share_data=True)
        key = model.study_.user_attrs[STUDY_UID]
        assert key in stored_payloads(storage)
        data = load_payload(storage, key)
        assert data.X.shape == (80, 3) and data.task == "classification"
        unshared = _fit(storage, study_name="private")
        assert unshared.study_.user_attrs[STUDY_UID] not in stored_payloads(storage)
