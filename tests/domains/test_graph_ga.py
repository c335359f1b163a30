import pytest
import torch
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from rewardsde.domains import GraphGAOffspring, SelfiesAlphabet, moses_smiles


@pytest.fixture(scope="module")
def molecules() -> list[str]:
    return moses_smiles(300, seed=2)


@pytest.fixture(scope="module")
def alphabet(molecules) -> SelfiesAlphabet:
    return SelfiesAlphabet.from_smiles(molecules, length=80)


def similarity_to_nearest(smiles: list[str], anchors: list[str]) -> float:
    """Mean over ``smiles`` of the largest Tanimoto similarity (Morgan radius 2) to any anchor."""
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    fingerprints = [generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in anchors]
    return sum(max(DataStructs.BulkTanimotoSimilarity(generator.GetFingerprint(Chem.MolFromSmiles(s)),
                                                      fingerprints)) for s in smiles) / len(smiles)


def test_children_are_molecules_the_alphabet_writes_and_lie_near_their_parents(molecules, alphabet):
    anchors, strangers = molecules[:8], molecules[100:164]
    propose = GraphGAOffspring(alphabet)
    x = propose(alphabet.encode(anchors), 64, torch.Generator().manual_seed(0))
    assert x.shape == (64, alphabet.num_states, alphabet.length) and set(x.unique().tolist()) == {-1.0, 1.0}
    children = alphabet.decode(x)
    assert all(Chem.MolFromSmiles(s) is not None for s in children)
    # crossover and mutation keep much of a parent: the children are closer to the anchors than other
    # MOSES molecules are (0.48 against 0.19 when written)
    assert similarity_to_nearest(children, anchors) > similarity_to_nearest(strangers, anchors) + 0.15
    again = propose(alphabet.encode(anchors), 64, torch.Generator().manual_seed(0))
    assert torch.equal(x, again)


def test_mutations_only_change_one_parent(molecules, alphabet):
    """With ``mutate=1`` every child is a mutation of a single anchor: the one anchor's children never take a
    fragment of another molecule, so with one anchor they stay near it."""
    anchor = molecules[:1]
    children = alphabet.decode(GraphGAOffspring(alphabet, mutate=1.0)(alphabet.encode(anchor), 16,
                                                                      torch.Generator().manual_seed(1)))
    assert similarity_to_nearest(children, anchor) > 0.3  # 0.56 when written


def test_bad_input_is_named(alphabet):
    with pytest.raises(ValueError, match="mutate"):
        GraphGAOffspring(alphabet, mutate=1.5)
    with pytest.raises(ValueError, match="max_tries"):
        GraphGAOffspring(alphabet, max_tries=0)
    with pytest.raises(ValueError, match="anchors"):
        GraphGAOffspring(alphabet)(torch.zeros(alphabet.num_states, alphabet.length), 4)
    methane = SelfiesAlphabet(["[C]"], 1)  # writes methane and nothing else, which no operator makes of it
    with pytest.raises(RuntimeError, match="no child"):
        GraphGAOffspring(methane, max_tries=20)(methane.encode(["C"]), 1)
