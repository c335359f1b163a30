import math

import pytest
import torch
from rdkit import Chem

from rewardsde.domains import (MoleculeReward, SelfiesAlphabet, canonical_smiles, decode, moses_smiles, one_hot,
                               scores)

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


ERYTHROMYCIN = (
    "CC[C@@H]1[C@@]([C@@H]([C@H](C(=O)[C@@H](C[C@@]([C@@H]([C@H]([C@@H]([C@H](C(=O)O1)C)O[C@H]2C[C@@]"
    "([C@H]([C@@H](O2)C)O)(C)OC)C)O[C@H]3[C@@H]([C@H](C[C@H](O3)C)N(C)C)O)(C)O)C)C)O)(C)O"
)


def test_canonical_smiles_is_one_string_per_molecule():
    """Three writings of toluene give one string, which RDKit parses back to itself; two molecules
    give two; a string RDKit cannot parse, or one with no atoms, gives None."""
    toluene = {canonical_smiles(s) for s in ("Cc1ccccc1", "c1ccc(C)cc1", "C1=CC=C(C)C=C1")}
    assert len(toluene) == 1
    (text,) = toluene
    assert canonical_smiles(text) == text and canonical_smiles("CCO") not in toluene
    assert canonical_smiles("C1CC") is None and canonical_smiles("") is None


def test_qed_and_sa_on_reference_molecules():
    """Published and defining facts, not RDKit called again: aspirin's QED is 0.55 (Bickerton et al.
    2012); SA lies in [1, 10] and orders a one-ring aromatic below aspirin below a macrolide
    antibiotic (Ertl & Schuffenhauer 2009 rate natural-product macrolides among the hardest)."""
    qed = scores([BENZENE, ASPIRIN, ERYTHROMYCIN], "qed")
    assert abs(qed[1].item() - 0.550) < 0.005
    assert ((qed > 0) & (qed < 1)).all()
    sa = scores([BENZENE, ASPIRIN, ERYTHROMYCIN], "sa")
    assert ((sa >= 1) & (sa <= 10)).all() and sa[0] < sa[1] < 3 < 5 < sa[2]
    invalid = scores(["", "C1CC", ASPIRIN], "qed")
    assert math.isnan(invalid[0]) and math.isnan(invalid[1]) and invalid[2] == qed[1]


def test_reward_decodes_scores_and_maps_invalid_to_the_configured_value(alphabet):
    x = torch.cat([alphabet.encode([ASPIRIN, BENZENE]), one_hot(torch.zeros(1, alphabet.length, dtype=torch.long), alphabet.num_states)])
    qed = MoleculeReward(alphabet, "qed", invalid_value=-0.5)(x)
    torch.testing.assert_close(qed, torch.cat([scores([ASPIRIN, BENZENE], "qed"), torch.tensor([-0.5], dtype=torch.float64)]).float())
    sa = MoleculeReward(alphabet, "sa")(x)
    # SA is mapped to (10 - SA)/9, so that higher is better and [1, 10] becomes [0, 1].
    torch.testing.assert_close(sa[0], ((10 - scores([ASPIRIN], "sa")) / 9).float()[0])
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


def test_samples_of_another_alphabet_are_named_and_the_fingerprint_tells_properties_apart():
    alphabet = SelfiesAlphabet(["[C]", "[O]"], 4)
    reward = MoleculeReward(alphabet, "qed")
    with pytest.raises(ValueError, match=r"x has 4 states, the SELFIES alphabet has 3"):
        reward(torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match=r"x has length 5, the SELFIES alphabet has length 4"):
        reward(torch.zeros(2, 3, 5))
    assert reward(alphabet.encode(["CO"])).shape == (1,)
    assert reward.fingerprint == MoleculeReward(SelfiesAlphabet(["[C]", "[O]"], 4), "qed").fingerprint
    assert reward.fingerprint != MoleculeReward(alphabet, "sa").fingerprint
