"""The cost of the chain head's forward-backward, and of sampling the shipped sequence models with it.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/chain_head_cost.py      # about 4 min on one CPU thread

:func:`rewardsde.domains.chain_marginals.chain_log_marginals` evaluates the recursions

    α_j(k) = u_j(k) + logsumexp_i(α_{j-1}(i) + A[i, k]),   β_j(i) = logsumexp_k(A[i, k] + u_{j+1}(k) + β_{j+1}(k))

as shifted matrix products of exponentials in float64. The reference here is the same
recursion written with ``torch.logsumexp`` over ``(batch, K, K)`` tensors, as the library
had it before. Two tables:

* **the head alone**, at the shapes of the shipped Ehrlich (K = 20, L = 32) and MOSES
  (K = 27, L = 49) models: medians of 5 calls without gradients and with a backward
  pass, and the largest difference of the two log-marginals in float64;
* **sampling** 512 sequences of each shipped model at 20 midpoint steps, with the
  library's head and with the reference swapped in (the same seed, so the same
  samples up to rounding): seconds, and the fraction of the sampled tokens that agree.
"""

from __future__ import annotations

import statistics
import time

import torch

try:
    from ._common import markdown_table
except ImportError:
    from _common import markdown_table

from rewardsde import DenoiserCorrection, FineTunedSampler
from rewardsde.domains import SequenceSDE, decode
from rewardsde.domains import sequence_eps
from rewardsde.domains.chain_marginals import chain_log_marginals


def reference_log_marginals(unary: torch.Tensor, pairwise: torch.Tensor) -> torch.Tensor:
    """The forward-backward recursions with ``torch.logsumexp`` over ``(batch, K, K)`` tensors."""
    pairwise = pairwise.to(unary)
    forward = [unary[:, :, 0]]
    for j in range(1, unary.shape[2]):
        forward.append(unary[:, :, j] + torch.logsumexp(forward[-1][:, :, None] + pairwise, dim=1))
    backward = [torch.zeros_like(unary[:, :, 0])]
    for j in range(unary.shape[2] - 2, -1, -1):
        message = unary[:, :, j + 1] + backward[-1]
        backward.append(torch.logsumexp(pairwise + message[:, None, :], dim=2))
    joint = torch.stack(forward, dim=2) + torch.stack(backward[::-1], dim=2)
    return torch.log_softmax(joint, dim=1)


def median_seconds(run, repeats: int = 5) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def head_rows() -> list[list]:
    rows = []
    for name, batch, states, length in [("Ehrlich", 512, 20, 32), ("MOSES", 512, 27, 49)]:
        generator = torch.Generator().manual_seed(0)
        unary = 10 * torch.randn(batch, states, length, generator=generator)
        pairwise = 3 * torch.randn(states, states, generator=generator)
        timings = []
        for head in (reference_log_marginals, chain_log_marginals):
            with torch.no_grad():
                no_grad = median_seconds(lambda: head(unary, pairwise))
            leaf = unary.clone().requires_grad_()
            backward = median_seconds(lambda: head(leaf, pairwise).exp().pow(2).sum().backward())
            timings.append((no_grad, backward))
        difference = (reference_log_marginals(unary.double(), pairwise.double())
                      - chain_log_marginals(unary.double(), pairwise.double())).abs().max().item()
        (ref_ng, ref_bw), (lib_ng, lib_bw) = timings
        rows.append([f"{name} (K={states}, L={length}, batch {batch})", ref_ng * 1e3, lib_ng * 1e3, ref_ng / lib_ng,
                     ref_bw * 1e3, lib_bw * 1e3, ref_bw / lib_bw, f"{difference:.1e}"])
    return rows


def sampling_rows(samples: int = 512) -> list[list]:
    rows = []
    for path in ["pretrained/ehrlich", "pretrained/moses"]:
        sampler = FineTunedSampler(SequenceSDE(path), DenoiserCorrection(), steps=20, backend="direct",
                                   method="midpoint")
        seconds, tokens = [], []
        for head in (reference_log_marginals, chain_log_marginals):
            sequence_eps.chain_log_marginals = head
            try:
                with torch.no_grad():
                    sampler.rollout(16, seed=1)  # warm-up
                    start = time.perf_counter()
                    x = sampler.rollout(samples, seed=0).x
                    seconds.append(time.perf_counter() - start)
            finally:
                sequence_eps.chain_log_marginals = chain_log_marginals
            tokens.append(decode(x))
        agree = (tokens[0] == tokens[1]).double().mean().item()
        rows.append([path, seconds[0], seconds[1], seconds[0] / seconds[1], agree])
    return rows


def main() -> None:
    torch.set_num_threads(1)
    print(markdown_table(["head", "reference, no grad (ms)", "library, no grad (ms)", "speed-up",
                          "reference, with backward (ms)", "library, with backward (ms)", "speed-up",
                          "largest difference (float64)"], head_rows()))
    print()
    print(markdown_table(["model (512 samples, 20 midpoint steps)", "reference head (s)", "library head (s)",
                          "speed-up", "tokens that agree"], sampling_rows()))


if __name__ == "__main__":
    main()
