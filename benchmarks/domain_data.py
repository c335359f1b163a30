"""What the data of the sequence and molecule domains look like, before any model.

    .venv/bin/python benchmarks/domain_data.py

* Ehrlich: fresh samples of each instance's Markov process (the pretraining data)
  are all feasible; their values show how far the data sit from the optimum f = 1.
  Uniform random sequences give the feasibility a model has to learn.
* MOSES: a seeded training subset, its SELFIES alphabet and token lengths, and its
  mean QED and SA; uniform random SELFIES of the same alphabet and length decode to
  valid but small molecules, so their QED is the floor a pretrained model must beat.

Runs in about half a minute on 2 CPU cores.
"""

from __future__ import annotations

import argparse

import torch
from _common import markdown_table

from rewardsde.callbacks import MoleculeMetrics
from rewardsde.domains import EhrlichReward, SelfiesAlphabet, moses_smiles

INSTANCES = {
    "v20 L32 c2 k4": dict(num_states=20, dim=32, num_motifs=2, motif_length=4),
    "v32 L32 c4 k4 q4 seed 50494": dict(num_states=32, dim=32, num_motifs=4, motif_length=4, quantization=4, random_seed=50494),
}


def ehrlich_rows(samples: int, seed: int) -> list[list[object]]:
    rows = []
    for name, instance in INSTANCES.items():
        reward = EhrlichReward(**instance)
        generator = torch.Generator().manual_seed(seed)
        for source, tokens in (
            ("DMP", reward.sample(samples, generator)),
            ("uniform", torch.randint(0, reward.num_states, (samples, reward.dim), generator=generator)),
        ):
            feasible = reward.feasible(tokens)
            values = reward.value(tokens)[feasible]
            rows.append([name, source, samples, feasible.double().mean().item(),
                         values.mean().item() if len(values) else None, values.max().item() if len(values) else None])
    return rows


def molecule_rows(size: int, seed: int) -> list[list[object]]:
    smiles = moses_smiles(size, seed)
    alphabet = SelfiesAlphabet.from_smiles(smiles)
    lengths = (alphabet.token_ids(smiles) != 0).sum(dim=1).double()
    generator = torch.Generator().manual_seed(seed)
    uniform = torch.randint(1, alphabet.num_states, (size, alphabet.length), generator=generator)
    rows = []
    for source, molecules, tokens in (
        ("MOSES subset", smiles, lengths.mean().item()),
        ("uniform SELFIES", alphabet.to_smiles(uniform), float(alphabet.length)),
    ):
        metric = MoleculeMetrics(training_smiles=smiles)
        metric.update(molecules)
        result = {key: value.item() for key, value in metric.compute().items()}
        rows.append([source, size, alphabet.num_states, tokens, alphabet.length,
                     result["validity"], result["uniqueness"], result["novelty"], result["diversity"], result["qed"], result["sa"]])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=10000, help="Ehrlich samples per instance and source")
    parser.add_argument("--molecules", type=int, default=2000, help="size of the MOSES subset")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(markdown_table(["Ehrlich instance", "sequences", "n", "feasible", "mean f (feasible)", "max f"],
                         ehrlich_rows(args.sequences, args.seed)))
    print()
    print(markdown_table(
        ["molecules", "n", "alphabet (with [nop])", "mean tokens", "length", "validity", "uniqueness",
         "novelty", "Tanimoto diversity", "mean QED", "mean SA"],
        molecule_rows(args.molecules, args.seed),
    ))


if __name__ == "__main__":
    main()
