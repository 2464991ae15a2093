"""Meta-training throughput: vmap-batched tasks against a per-task Python loop.

    python -m automl_meta.benchmarks.meta_throughput [--device auto|cpu|cuda] [--tasks 32]

For MAML, first-order MAML and Reptile it times outer steps on synthetic 5-way 5-shot
episodes (width 32, an MLP of 2 × 128 hidden units, 5 inner steps) and prints tasks per
second for the batched step (``vmap`` over the batch) and for the same tasks one at a
time.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    import pandas as pd
    import torch
    from torch import nn

    from ..learners.torch.initialisation import ALGORITHMS
    from ..learners.torch.mlp import resolve_device
    from ..meta_learning.core import Episodes, InnerLoop, meta_step
    from .warm_start import commit_hash, markdown_table

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--tasks", type=int, default=32, help="tasks per batch")
    parser.add_argument("--steps", type=int, default=5, help="outer steps timed")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    torch.manual_seed(0)
    width, n_way, shots, query, n_out = 32, 5, 5, 15, 10
    model = nn.Sequential(nn.Linear(width, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                          nn.Linear(128, n_out)).to(device)
    params = {k: v.detach().clone().requires_grad_(True)
              for k, v in model.named_parameters()}
    optimizer = torch.optim.Adam(params.values(), lr=1e-3)
    t = args.tasks
    mask = torch.zeros(t, n_out, dtype=torch.bool)
    mask[:, :n_way] = True
    episodes = Episodes(torch.randn(t, n_way * shots, width),
                        torch.randint(0, n_way, (t, n_way * shots)),
                        torch.randn(t, n_way * query, width),
                        torch.randint(0, n_way, (t, n_way * query)), mask).to(device)
    inner = InnerLoop(steps=5, lr=0.1)

    def timed(run) -> float:
        run()  # warm-up (kernels, allocator)
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(args.steps):
            run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return args.steps * t / (time.perf_counter() - start)

    rows = []
    for algorithm in ALGORITHMS:
        batched = timed(lambda a=algorithm: meta_step(model, params, optimizer, episodes,
                                                      inner, a))
        looped = timed(lambda a=algorithm: [meta_step(model, params, optimizer,
                                                      episodes.task(i), inner, a)
                                            for i in range(t)])
        rows.append({"algorithm": algorithm, "batched tasks/s": batched,
                     "loop tasks/s": looped, "speed-up": batched / looped})
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"# Meta-training throughput, {t} tasks per batch, {name}, torch "
          f"{torch.__version__}, commit {commit_hash()}\n")
    print(markdown_table(pd.DataFrame(rows).set_index("algorithm"), 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
