"""What ELEGANT's target would give on Ehrlich: the exact tilt of the pretrained model's own samples.

ELEGANT's target is ``p*(x) ∝ p_pre(x)·exp(r̂(x)/α)``. Restricted to ``n`` samples of
the pretrained model, it is the self-normalised reweighting ``w_i ∝ exp(r̂(x_i)/α)``:
the genuine Ehrlich value, feasibility and learned reward under ``w``, its effective
sample size ``1/Σw²`` and ``KL(w ‖ uniform) = Σ w log(n·w)`` (a lower bound on what
reaching it costs a fine-tuned sampler, which may also leave the samples' support).
The learned reward is that of ``benchmarks/ehrlich_gradients.py`` (4,096 oracle
labels, 4 dilated CNNs on the decoded vertex), on separate samples. It answers whether
a reward model, not the optimiser, is the limit: if the tilt reaches 2× the genuine
value at some α, an optimiser that reaches the tilt would too.

    OMP_NUM_THREADS=1 python benchmarks/ehrlich_tilt.py      # about 4 minutes

Writes ``benchmarks/results/ehrlich_tilt.json``: rows ``{"alpha", "genuine", "feasible",
"learned", "ess", "kl"}`` (``alpha`` null: the pretrained model itself).
"""

from __future__ import annotations

import argparse
import json
import pathlib

import torch

from rewardsde.domains import GenuineReward, SequenceSDE, decode, one_hot
from rewardsde.sampling import sample_reference

try:
    from ._common import markdown_table
    from .ehrlich_gradients import learned_reward
except ImportError:
    from _common import markdown_table
    from ehrlich_gradients import learned_reward

RESULTS = pathlib.Path(__file__).parent / "results" / "ehrlich_tilt.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", default="pretrained/ehrlich")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--labels", type=int, default=4096)
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    sde, genuine = SequenceSDE(args.path), GenuineReward(args.path)
    reward = learned_reward(args.path, args.labels, args.seed)
    x = sample_reference(sde, args.samples, 20, seed=args.seed + 4242)
    tokens = decode(x)
    vertices = one_hot(tokens, x.shape[1])
    with torch.no_grad():
        r = reward(vertices).double()
    g = genuine(vertices).double()
    feasible = genuine.reward.feasible(tokens).double()
    rows = [dict(alpha=None, genuine=g.mean().item(), feasible=feasible.mean().item(), learned=r.mean().item(),
                 ess=float(len(r)), kl=0.0)]
    for alpha in (0.1, 0.05, 0.03, 0.02, 0.01):
        w = torch.softmax(r / alpha, 0)
        rows.append(dict(alpha=alpha, genuine=(w * g).sum().item(), feasible=(w * feasible).sum().item(),
                         learned=(w * r).sum().item(), ess=(1 / w.pow(2).sum()).item(),
                         kl=(w * torch.log(w * len(w)).nan_to_num()).sum().item()))
    print(markdown_table(["α", "genuine", "feasible", "learned", "ESS", "KL (nats)"],
                         [[row["alpha"] if row["alpha"] is not None else "pretrained", row["genuine"], row["feasible"],
                           row["learned"], row["ess"], row["kl"]] for row in rows]))
    pathlib.Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
