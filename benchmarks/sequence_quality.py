"""How good a saved sequence model's samples are, at the solver steps that fine-tuning and evaluation use.

    .venv/bin/python benchmarks/sequence_quality.py pretrained/ehrlich [--steps 20 50] [--samples 512]
    .venv/bin/python benchmarks/sequence_quality.py pretrained/moses --samples 1000 --fcd 10000

For a model pretrained on an Ehrlich instance: the feasibility rate, the mean and
best genuine value (0 when infeasible) and the mean pairwise Hamming distance. For a
model pretrained on MOSES SELFIES: validity, uniqueness, novelty (against the
pretraining subset), Tanimoto diversity, mean QED and SA (:class:`MosesMetrics`, whose
validity rule is one connected molecule at least as large as the smallest training
molecule), a first row for as many molecules of the pretraining subset itself, and with
``--fcd N`` the Fréchet ChemNet Distance (Preuer et al. 2018; ``fcd_torch``, whose
ChemNet weights ship in its wheel) of the valid samples to ``N`` held-out molecules of the
MOSES test split. With ``--rings``, a second table of the valid molecules' ring structure
(mean rings, aromatic rings, heavy atoms; the fraction with no aromatic ring and with a ring
of more than 7 atoms), the means of the eight properties QED combines, the structural alerts
of QED that the samples match most (with the fraction of the data that matches them) and,
for each token of the alphabet, its frequency in the samples against the data (the tokens
above 1% in either). One row per number of midpoint steps, with
the sampling time; :mod:`domains` uses the same rows. ``--temperature 0.5`` samples the model at
that temperature (:class:`rewardsde.domains.SequenceSDE`); the metadata and data rows are unchanged.
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import markdown_table

from rewardsde import sample_reference
from rewardsde.callbacks import EhrlichFeasibility, HammingDiversity, MosesMetrics
from rewardsde.domains import GenuineReward, SelfiesAlphabet, SequenceSDE, moses_smiles, read_domain

EHRLICH_HEADER = ["feasible", "mean f", "best f", "Hamming"]
MOSES_KEYS = ["validity", "uniqueness", "novelty", "diversity", "qed", "sa"]
MOSES_HEADER = [*MOSES_KEYS[:4], "mean QED", "mean SA"]


def ehrlich_row(path: str, x: torch.Tensor) -> list[float]:
    """Feasibility, mean and best genuine value, Hamming diversity of one-hot samples ``x`` ``(n, states, length)``."""
    feasibility, hamming = EhrlichFeasibility(path), HammingDiversity()
    feasibility.update(x)
    hamming.update(x)
    values = GenuineReward(path)(x)
    return [feasibility.compute().item(), values.mean().item(), values.max().item(), hamming.compute().item()]


def moses_row(path: str, x: torch.Tensor) -> list[float]:
    """The :data:`MOSES_KEYS` of one-hot SELFIES samples ``x`` ``(n, states, length)``."""
    metrics = MosesMetrics(path)
    metrics.update(x)
    values = metrics.compute()
    return [values[key].item() for key in MOSES_KEYS]


def valid_smiles(path: str, x: torch.Tensor) -> list[str]:
    """The SMILES of the samples ``x`` that :class:`MosesMetrics` of the model at ``path`` counts valid."""
    metrics = MosesMetrics(path)
    return [s for s in metrics.decode(x) if metrics.is_valid(s)]


def frechet_chemnet_distance(smiles: list[str], held_out: int, seed: int = 0) -> float:
    """FCD between ``smiles`` and ``held_out`` molecules drawn (``seed``) from the MOSES test split."""
    from fcd_torch import FCD

    return float(FCD(device="cpu", n_jobs=1)(gen=smiles, ref=moses_smiles(held_out, seed, split="test")))


RING_HEADER = ["rings", "aromatic rings", "no aromatic ring", "ring > 7 atoms", "heavy atoms"]


def ring_row(smiles: list[str]) -> list[float]:
    """The :data:`RING_HEADER` means over the molecules of ``smiles``."""
    from rdkit import Chem
    from rdkit.Chem import rdMolDescriptors

    mols = [Chem.MolFromSmiles(s) for s in smiles]
    columns = [[rdMolDescriptors.CalcNumRings(m), rdMolDescriptors.CalcNumAromaticRings(m),
                rdMolDescriptors.CalcNumAromaticRings(m) == 0,
                any(len(ring) > 7 for ring in m.GetRingInfo().AtomRings()), m.GetNumHeavyAtoms()] for m in mols]
    return [sum(float(row[i]) for row in columns) / len(columns) for i in range(len(RING_HEADER))]


QED_PARTS = ["MW", "ALOGP", "HBA", "HBD", "PSA", "ROTB", "AROM", "ALERTS"]


def qed_parts_row(smiles: list[str]) -> list[float]:
    """The means over ``smiles`` of the eight properties QED combines (RDKit's ``QED.properties``:
    molecular weight, logP, H-bond acceptors and donors, polar surface area, rotatable bonds,
    aromatic rings, structural alerts matched), of QED itself, and of QED with the alerts set to
    none (what the alerts cost)."""
    from rdkit import Chem
    from rdkit.Chem import QED

    def row(mol) -> list[float]:
        parts = QED.properties(mol)
        return [*parts, QED.qed(mol, qedProperties=parts), QED.qed(mol, qedProperties=parts._replace(ALERTS=0))]

    rows = [row(m) for m in map(Chem.MolFromSmiles, smiles)]
    return [sum(r[i] for r in rows) / len(rows) for i in range(len(QED_PARTS) + 2)]


def alerts_table(data: list[str], samples: list[str], top: int = 10) -> str:
    """The ``top`` structural alerts of QED (RDKit's ``QED.StructuralAlerts``, SMARTS shown) matched
    by the most of ``samples``, with the fraction of ``data`` and of ``samples`` that match each."""
    from rdkit import Chem
    from rdkit.Chem import QED

    def fractions(smiles: list[str]) -> list[float]:
        mols = [Chem.MolFromSmiles(s) for s in smiles]
        return [sum(m.HasSubstructMatch(alert) for m in mols) / len(mols) for alert in QED.StructuralAlerts]

    theirs, ours = fractions(data), fractions(samples)
    order = sorted(range(len(ours)), key=lambda i: -ours[i])[:top]
    rows = [[f"`{QED.StructuralAlertSmarts[i]}`", theirs[i], ours[i]] for i in order]
    return markdown_table(["QED structural alert (SMARTS)", "data", "samples"], rows)


def token_table(alphabet: SelfiesAlphabet, data: torch.Tensor, x: torch.Tensor) -> str:
    """The frequency of each token in the samples ``x`` against ``data`` (both one-hot), above 1% in either."""
    count = lambda t: torch.bincount(t.argmax(1).flatten(), minlength=alphabet.num_states).double() / t[:, 0].numel()
    ours, theirs = count(x), count(data)
    rows = [[token, theirs[i].item(), ours[i].item()] for i, token in enumerate(alphabet.tokens)
            if max(ours[i], theirs[i]) > 0.01]
    return markdown_table(["token", "data", "samples"], rows)


def rings(path: str, samples: int, steps: int, seed: int = 0, temperature: float = 1.0) -> str:
    """Ring structure, QED's parts, QED's structural alerts and token frequencies of the data and
    of the model at ``path`` (its valid samples)."""
    domain = read_domain(path)
    alphabet = SelfiesAlphabet(domain.instance.tokens, domain.length)
    data = alphabet.encode(domain.instance.written(moses_smiles(domain.instance.size, domain.instance.seed)[:samples]))
    x = sample_reference(SequenceSDE(path, temperature), samples, steps=steps, seed=seed)
    ours, theirs, label = valid_smiles(path, x), valid_smiles(path, data), f"model, {steps} steps"
    table = markdown_table(["molecules", *RING_HEADER], [["data", *ring_row(theirs)], [label, *ring_row(ours)]])
    parts = markdown_table(["molecules", *QED_PARTS, "QED", "QED without alerts"], [["data", *qed_parts_row(theirs)],
                                                               [label, *qed_parts_row(ours)]])
    return "\n\n".join([table, parts, alerts_table(theirs, ours), token_table(alphabet, data, x)])


def quality(path: str, samples: int, steps: list[int], seed: int = 0, fcd: int = 0, temperature: float = 1.0) -> str:
    """The table of the model at ``path``: one row per number of solver steps (and the data first for MOSES)."""
    domain = read_domain(path)
    row, header = (ehrlich_row, EHRLICH_HEADER) if domain.domain == "ehrlich" else (moses_row, MOSES_HEADER)
    sde, rows = SequenceSDE(path, temperature), []
    fcd_column = ["FCD"] if fcd and domain.domain == "moses" else []
    if domain.domain == "moses":
        data = SelfiesAlphabet(domain.instance.tokens, domain.length).encode(
            domain.instance.written(moses_smiles(domain.instance.size, domain.instance.seed)[:samples]))
        extra = [frechet_chemnet_distance(valid_smiles(path, data), fcd)] if fcd_column else []
        rows.append(["data", *row(path, data), *extra, 0.0])
    for n in steps:
        start = time.perf_counter()
        x = sample_reference(sde, samples, steps=n, seed=seed)
        elapsed = time.perf_counter() - start
        extra = [frechet_chemnet_distance(valid_smiles(path, x), fcd)] if fcd_column else []
        rows.append([n, *row(path, x), *extra, elapsed])
    return markdown_table(["steps", *header, *fcd_column, "sampling seconds"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="a directory written by SequenceEps.save_pretrained")
    parser.add_argument("--steps", type=int, nargs="+", default=[20, 50], help="midpoint steps")
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fcd", type=int, default=0, help="held-out MOSES test molecules for the FCD (0: no FCD)")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (1: as trained)")
    parser.add_argument("--rings", action="store_true", help="MOSES: ring structure, QED's parts and alerts, token frequencies")
    args = parser.parse_args()
    print(quality(args.path, args.samples, args.steps, args.seed, args.fcd, args.temperature))
    if args.rings:
        print()
        print(rings(args.path, args.samples, args.steps[0], args.seed, args.temperature))


if __name__ == "__main__":
    main()
