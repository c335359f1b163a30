import math

import pytest
import torch
from rdkit import Chem, DataStructs
from rdkit.Chem import QED, rdFingerprintGenerator
from rdkit.Contrib.SA_Score import sascorer

from rewardsde.callbacks.feasibility import FeasibilityRate
from rewardsde.callbacks.hamming import HammingDiversity
from rewardsde.callbacks.molecules import MoleculeMetrics
from rewardsde.domains import SelfiesAlphabet, one_hot


def test_feasibility_rate_counts_over_updates():
    metric = FeasibilityRate(lambda x: x[:, 0, 0] > 0)
    metric.update(torch.tensor([1.0, -1.0, 2.0])[:, None, None])
    metric.update(torch.tensor([-3.0])[:, None, None])
    assert metric.compute().item() == 0.5


def test_hamming_diversity_by_hand():
    tokens = torch.tensor([[0, 1, 2, 3], [0, 1, 1, 3], [2, 2, 2, 2]])  # distances 1, 3, 4
    metric = HammingDiversity()
    metric.update(one_hot(tokens[:1], 4))
    metric.update(one_hot(tokens[1:], 4))
    assert metric.compute().item() == 8 / 3


def test_molecule_metrics_by_hand_and_against_rdkit():
    smiles = ["CCO", "OCC", "", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O"]
    metric = MoleculeMetrics(training_smiles=["OCC"], bits=1024)
    metric.update(smiles[:2])
    metric.update(smiles[2:])
    result = metric.compute()
    mols = [Chem.MolFromSmiles(s) for s in smiles if s]
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    prints = [generator.GetFingerprint(m) for m in mols]
    distances = [1 - DataStructs.TanimotoSimilarity(prints[i], prints[j]) for i in range(4) for j in range(i + 1, 4)]
    assert result["validity"].item() == 4 / 5 and result["uniqueness"].item() == 3 / 4 and result["novelty"].item() == 2 / 3
    assert math.isclose(result["diversity"].item(), sum(distances) / 6, rel_tol=1e-12)
    assert math.isclose(result["qed"].item(), sum(QED.qed(m) for m in mols) / 4, rel_tol=1e-12)
    assert math.isclose(result["sa"].item(), sum(sascorer.calculateScore(m) for m in mols) / 4, rel_tol=1e-12)


def test_fragments_and_molecules_below_the_size_rule_are_invalid():
    metric = MoleculeMetrics(min_heavy_atoms=3)
    metric.update(["CCO", "CC", "CCO.CCO", "c1ccccc1O"])  # 3 atoms, 2 (too few), two fragments, 7
    result = metric.compute()
    assert result["validity"].item() == 2 / 4
    assert math.isclose(result["qed"].item(), (QED.qed(Chem.MolFromSmiles("CCO")) + QED.qed(Chem.MolFromSmiles("c1ccccc1O"))) / 2)
    with pytest.raises(ValueError, match="min_heavy_atoms must be at least 1, got 0"):
        MoleculeMetrics(min_heavy_atoms=0)


def test_molecule_metrics_decode_one_hot_selfies_and_report_nan_without_valid_samples():
    alphabet = SelfiesAlphabet.from_smiles(["CCO", "c1ccccc1O"])
    metric = MoleculeMetrics(decode=alphabet.decode)
    metric.update(alphabet.encode(["CCO", "c1ccccc1O"]))
    assert metric.compute()["validity"].item() == 1.0 and metric.compute()["novelty"].item() == 1.0
    empty = MoleculeMetrics()
    empty.update([""])
    result = empty.compute()
    assert result["validity"].item() == 0 and all(math.isnan(result[k].item()) for k in ("uniqueness", "qed", "diversity"))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"shape \(2,\) for this batch, got \(2, 1\)"):
        FeasibilityRate(lambda x: x[:, :1] > 0).update(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="needs at least one sample"):
        FeasibilityRate(lambda x: x).compute()
    hamming = HammingDiversity()
    hamming.update(torch.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="length 4 after sequences of length 5"):
        hamming.update(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="at least 2 samples, got 0"):
        HammingDiversity().compute()
    with pytest.raises(ValueError, match="training SMILES 'C1CC' is not a valid molecule"):
        MoleculeMetrics(training_smiles=["C1CC"])
    with pytest.raises(ValueError, match="pass decode="):
        MoleculeMetrics().update(torch.zeros(2, 3, 4))
