"""PMO's MPO tasks: our rewards equal guacamol's own scores and the definitions' exact values."""

import math

import pytest
import torch

from rewardsde.domains import MoleculeReward, SelfiesAlphabet, scores
from rewardsde.domains import PMO_TASKS, pmo_objective, top_k_auc
from rewardsde.domains.pmo_objectives import import_guacamol_benchmarks

PERINDOPRIL = "O=C(OCC)C(NC(C(=O)N1C(C(=O)O)CC2CCCCC12)C)CCC"
SITAGLIPTIN = "Fc1cc(c(F)cc1F)CC(N)CC(=O)N3Cc2nnc(n2CC3)C(F)(F)F"
REFERENCES = [PERINDOPRIL, SITAGLIPTIN, "CC(=O)Oc1ccccc1C(=O)O", "c1ccc(-c2ccccc2)cc1CCNC(=O)C1CCCN1", "CCO"]


@pytest.mark.parametrize("task", sorted(PMO_TASKS))
def test_scores_are_guacamols_own(task):
    benchmark = getattr(import_guacamol_benchmarks(), PMO_TASKS[task])()
    expected = torch.tensor([benchmark.objective.score(s) for s in REFERENCES], dtype=torch.float64)
    assert torch.equal(scores(REFERENCES, task), expected)
    assert ((expected >= 0) & (expected <= 1)).all() and expected.max() > 0


def test_the_drugs_themselves_score_what_the_definitions_say():
    # perindopril: similarity 1, no aromatic ring against a Gaussian(2, 0.5): sqrt(1 * exp(-8)) = exp(-4)
    assert pmo_objective("perindopril_mpo")(PERINDOPRIL) == pytest.approx(math.exp(-4), rel=1e-9)
    # sitagliptin: similarity 1 under Gaussian(0, 0.1) is exp(-50); logP, TPSA and formula are its own (1):
    # the geometric mean of four terms is exp(-12.5)
    assert pmo_objective("sitagliptin_mpo")(SITAGLIPTIN) == pytest.approx(math.exp(-12.5), rel=1e-9)


def test_molecule_reward_scores_pmo_tasks_and_names_unknown_ones():
    alphabet = SelfiesAlphabet.from_smiles(REFERENCES)
    x = alphabet.encode(REFERENCES)
    reward = MoleculeReward(alphabet, "perindopril_mpo")
    assert torch.allclose(reward(x).double(), scores(alphabet.decode(x), "perindopril_mpo"))
    assert reward.fingerprint["instance"]["prop"] == "perindopril_mpo"
    with pytest.raises(ValueError, match="prop must be one of .*'sitagliptin_mpo'.*got 'logp_mpo'"):
        MoleculeReward(alphabet, "logp_mpo")
    with pytest.raises(ValueError, match="unknown PMO task 'qed'"):
        pmo_objective("qed")


def test_top_k_auc_of_a_constant_run_loses_only_the_first_half_segment():
    assert top_k_auc([0.7] * 10_000) == pytest.approx(0.7 * (1 - 100 / 20_000), rel=1e-12)
    assert top_k_auc([0.7] * 10_000, every=1) == pytest.approx(0.7 * (1 - 1 / 20_000), rel=1e-12)


def test_top_k_auc_by_hand():
    # budget 4, read every 2 calls, top-2: t(2) = (0.2 + 0)/2 = 0.1, t(3) = (0.9 + 0.2)/2 = 0.55, kept to call 4
    # area = 2·(0.1 + 0)/2 + 1·(0.55 + 0.1)/2 + 1·0.55 = 0.1 + 0.325 + 0.55
    assert top_k_auc([0.0, 0.2, 0.9], k=2, budget=4, every=2) == pytest.approx((0.1 + 0.325 + 0.55) / 4, rel=1e-12)
    # calls beyond the budget do not count
    assert top_k_auc([0.0, 0.2, 0.9, 0.1, 1.0], k=2, budget=4, every=2) == top_k_auc([0.0, 0.2, 0.9, 0.1], 2, 4, 2)
    with pytest.raises(ValueError, match="at least one score"):
        top_k_auc([])
    with pytest.raises(ValueError, match="k, budget and every must be positive, got 0, 10 and 1"):
        top_k_auc([1.0], k=0, budget=10, every=1)
