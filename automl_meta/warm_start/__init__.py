"""The learned warm start: proposals for a new dataset's first trials.

>>> from automl_meta.warm_start import ProposalModel
>>> ProposalModel.empty().n_datasets
0
"""

from __future__ import annotations

from .artifact import load_or_build, load_proposal_model, save_proposal_model
from .build import build_proposal_model
from .encoding import ConfigEncoder
from .model import STRATEGIES, Proposal, ProposalModel

__all__ = ["STRATEGIES", "ConfigEncoder", "Proposal", "ProposalModel", "build_proposal_model",
           "load_or_build", "load_proposal_model", "save_proposal_model"]
