import math

import pytest
import torch
from rdkit import Chem
from rdkit.Chem import QED
from rdkit.Contrib.SA_Score import sascorer

from rewardsde.domains import MoleculeReward, SelfiesAlphabet, decode, moses_smiles, one_hot, scores

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
BENZENE = "c1ccccc1"


@pytest.fixture(scope="module")
def subset() -> list[str]:
    return moses_smiles(200, seed=0)


@pytest.fixture(scope="module")
def alphabet(subset) -> SelfiesAlphabet:
    return SelfiesAlphabet.from_smiles([*subset, ASPIRIN, BENZENE])


def canonical(smiles: str) -> str:
    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


def test_selfies_round_trip_gives_the_same_valid_molecules(subset, alphabet):
    x = alphabet.encode(subset)
    assert x.shape == (200, alphabet.num_states, alphabet.length) and alphabet.tokens[0] == "[nop]"
    assert [canonical(s) for s in alphabet.decode(x)] == [canonical(s) for s in subset]


def test_random_token_sequences_decode_to_molecules(alphabet, generator):
    tokens = torch.randint(1, alphabet.num_states, (50, alphabet.length), generator=generator)
    smiles = alphabet.decode(one_hot(tokens, alphabet.num_states))
    assert all(Chem.MolFromSmiles(s) is not None and Chem.MolFromSmiles(s).GetNumAtoms() > 0 for s in smiles)
    assert alphabet.to_smiles(torch.zeros(1, alphabet.length, dtype=torch.long)) == [""]


def test_qed_and_sa_equal_rdkit_on_known_molecules():
    mols = [Chem.MolFromSmiles(s) for s in (BENZENE, ASPIRIN)]
    expected_qed = torch.tensor([QED.qed(m) for m in mols], dtype=torch.float64)
    assert torch.equal(scores([BENZENE, ASPIRIN], "qed"), expected_qed)
    assert abs(expected_qed[1].item() - 0.550) < 0.01, "aspirin's published QED is 0.55"
    assert torch.equal(scores([BENZENE, ASPIRIN], "sa"), torch.tensor([sascorer.calculateScore(m) for m in mols], dtype=torch.float64))
    invalid = scores(["", "C1CC", ASPIRIN], "qed")
    assert math.isnan(invalid[0]) and math.isnan(invalid[1]) and invalid[2] == expected_qed[1]


def test_reward_decodes_scores_and_maps_invalid_to_the_configured_value(alphabet):
    x = torch.cat([alphabet.encode([ASPIRIN, BENZENE]), one_hot(torch.zeros(1, alphabet.length, dtype=torch.long), alphabet.num_states)])
    qed = MoleculeReward(alphabet, "qed", invalid_value=-0.5)(x)
    torch.testing.assert_close(qed, torch.tensor([QED.qed(Chem.MolFromSmiles(ASPIRIN)), QED.qed(Chem.MolFromSmiles(BENZENE)), -0.5]))
    sa = MoleculeReward(alphabet, "sa")(x)
    torch.testing.assert_close(sa[0], torch.tensor((10 - sascorer.calculateScore(Chem.MolFromSmiles(ASPIRIN))) / 9))
    assert sa[2] == 0 and torch.equal(decode(x)[2], torch.zeros(alphabet.length, dtype=torch.long))


def test_bad_input_is_named(alphabet):
    with pytest.raises(ValueError, match=r"outside the alphabet: \['\[I\]'\]"):
        alphabet.encode(["CCI"])
    with pytest.raises(ValueError, match=f"more than length {alphabet.length}"):
        alphabet.encode(["C" * (alphabet.length + 1)])
    with pytest.raises(ValueError, match=r"got \(1, 3, 4\)"):
        alphabet.decode(torch.zeros(1, 3, 4))
    with pytest.raises(ValueError, match="prop must be one of"):
        MoleculeReward(alphabet, "logp")
    with pytest.raises(ValueError, match="non-empty list without repeats"):
        SelfiesAlphabet(["[C]", "[C]"], 4)
