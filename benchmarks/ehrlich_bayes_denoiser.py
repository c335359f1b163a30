"""The exact denoiser of an Ehrlich instance's data, against a saved model, at the solver steps fine-tuning uses.

    .venv/bin/python benchmarks/ehrlich_bayes_denoiser.py pretrained/ehrlich [--steps 20] [--samples 512]

The data are the instance's DMP, a Markov chain (initial law π, transition matrix T), and a
noisy position is the Gaussian ``x_j ~ N(√ᾱ·c_k, σ²I)`` around the ±1 code ``c_k`` of its
state, with log-likelihood ``ℓ_j(k) = 2√ᾱ·x_{k,j}/σ² + const``. Forward-backward gives the
exact posterior marginals ``p(y_j = k | x_s)`` (an HMM), hence the Bayes x₀-denoiser
``x̂₀ = 2p - 1`` and its ε. Two tables: the cross-entropy of the Bayes posterior and of the
saved model's x₀-logits on noised data, by diffusion time (the model's excess is what
training can still win), and the samples of the Bayes denoiser through the same SDE and
solver as the model's. Writes ``benchmarks/results/ehrlich_bayes_denoiser.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from _common import markdown_table
from sequence_quality import EHRLICH_HEADER, ehrlich_row
from torch import Tensor, nn

from rewardsde import PretrainedSDE, VPSchedule, sample_reference
from rewardsde.domains import SequenceEps, domain_reward, one_hot, read_domain

TIMES = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6)


class BayesEps(nn.Module):
    """ε of the exact denoiser of a Markov chain ``(π, T)`` of one-hot codes under ``schedule``."""

    def __init__(self, initial: Tensor, transition: Tensor, schedule: VPSchedule) -> None:
        super().__init__()
        self.log_initial, self.log_transition = initial.double().log(), transition.double().log()
        self.schedule = schedule

    def log_posterior(self, x: Tensor, s: Tensor) -> Tensor:
        """``log p(y_j = k | x_s)``, ``(batch, K, L)``, by forward-backward in log space (float64)."""
        s = torch.as_tensor(s).to(x).reshape(-1).expand(x.shape[0])[:, None, None]
        emission = (2 * self.schedule.alpha_bar(s).sqrt() * x / self.schedule.sigma(s).square()).double()
        forward, backward = torch.empty_like(emission), torch.zeros_like(emission)
        forward[:, :, 0] = self.log_initial + emission[:, :, 0]
        for j in range(1, x.shape[2]):
            forward[:, :, j] = torch.logsumexp(forward[:, :, j - 1, None] + self.log_transition, 1) + emission[:, :, j]
        for j in range(x.shape[2] - 2, -1, -1):
            message = emission[:, :, j + 1] + backward[:, :, j + 1]
            backward[:, :, j] = torch.logsumexp(self.log_transition + message[:, None, :], 2)
        return torch.log_softmax(forward + backward, 1).to(x.dtype)

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        time = torch.as_tensor(s).to(x).reshape(-1).expand(x.shape[0])[:, None, None]
        denoised = 2 * self.log_posterior(x, s).exp() - 1
        return (x - self.schedule.alpha_bar(time).sqrt() * denoised) / self.schedule.sigma(time)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="a sequence model pretrained on an Ehrlich instance")
    parser.add_argument("--steps", type=int, nargs="+", default=[20], help="midpoint steps")
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    domain, network = read_domain(args.path), SequenceEps.from_pretrained(args.path).eval()
    reward = domain_reward(domain)
    instance = reward.function
    bayes = BayesEps(instance.stationary_dist.squeeze(-1), instance.transition_matrix, network.schedule)
    data = reward.sample(args.samples, torch.Generator().manual_seed(args.seed + 1))
    x0 = one_hot(data, domain.num_states)
    entropy_rows = []
    with torch.no_grad():
        for s in TIMES:
            time = torch.full((args.samples,), s)
            root, sigma = network.schedule.alpha_bar(time).sqrt(), network.schedule.sigma(time)
            noisy = root[:, None, None] * x0 + sigma[:, None, None] * torch.randn_like(x0)
            tokens = x0.argmax(1)
            exact = torch.nn.functional.nll_loss(bayes.log_posterior(noisy, time), tokens).item()
            model = torch.nn.functional.cross_entropy(network.logits(noisy, time), tokens).item()
            entropy_rows.append([s, (root[0] / sigma[0]).square().item(), exact, model, model - exact])
        sde = PretrainedSDE(bayes, (domain.num_states, domain.length), network.schedule, 1e-3)
        sample_rows = [
            [n, *ehrlich_row(args.path, sample_reference(sde, args.samples, n, seed=args.seed))] for n in args.steps
        ]
    print(markdown_table(["s", "SNR", "Bayes CE", "model CE", "excess"], entropy_rows))
    print()
    print(markdown_table(["steps (Bayes denoiser)", *EHRLICH_HEADER], sample_rows))
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    rows = {"cross_entropy": entropy_rows, "bayes_samples": sample_rows, "path": args.path, "samples": args.samples}
    (results / "ehrlich_bayes_denoiser.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
