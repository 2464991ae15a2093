"""Meta-learned initialisations for the neural learners: MAML, first-order MAML, Reptile.

The functional core (:mod:`.core`) is built on ``torch.func`` (``functional_call``,
``grad``, ``vmap``). This package imports torch (all but :mod:`.location`, where the
artifact is): nothing imports it until a meta-learning command or learner runs.
"""
