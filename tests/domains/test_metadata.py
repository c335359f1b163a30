import json

import pytest

from rewardsde.domains import EhrlichInstance, MosesSubset, SequenceDomain

PUBLISHED = SequenceDomain(32, 32, EhrlichInstance(num_motifs=4, motif_length=4, quantization=4,
                                                   epistasis_factor=0.25, random_seed=50494))
MOLECULES = SequenceDomain(3, 5, MosesSubset(tokens=("[nop]", "[C]", "[O]"), size=100, seed=2))


@pytest.mark.parametrize("domain", [PUBLISHED, MOLECULES], ids=["ehrlich", "moses"])
def test_every_field_survives_json(domain):
    again = SequenceDomain.from_dict(json.loads(json.dumps(domain.to_dict())))
    assert again == domain and type(again.instance) is type(domain.instance)


def test_the_domain_is_named_by_its_instance():
    assert (PUBLISHED.domain, MOLECULES.domain) == ("ehrlich", "moses")
    assert PUBLISHED.to_dict()["domain"] == "ehrlich" and MOLECULES.to_dict()["instance"]["tokens"] == ["[nop]", "[C]", "[O]"]


def test_defaults_of_an_ehrlich_instance_may_be_left_out():
    read = SequenceDomain.from_dict({"domain": "ehrlich", "num_states": 20, "length": 32, "instance": {}})
    assert read.instance == EhrlichInstance()


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: SequenceDomain(1, 32, EhrlichInstance()), r"SequenceDomain.num_states must be an integer >= 2, got 1"),
        (lambda: SequenceDomain(20, 0, EhrlichInstance()), r"SequenceDomain.length must be an integer >= 1, got 0"),
        (lambda: SequenceDomain(20, 7, EhrlichInstance(num_motifs=2, motif_length=4)), r"length=7 is shorter than .*=8"),
        (lambda: SequenceDomain(20, 32, {"num_motifs": 2}), "instance must be an EhrlichInstance or a MosesSubset"),
        (lambda: EhrlichInstance(motif_length=1), r"EhrlichInstance.motif_length must be an integer >= 2, got 1"),
        (lambda: EhrlichInstance(quantization=5), r"EhrlichInstance.quantization must be at most motif_length=4, got 5"),
        (lambda: EhrlichInstance(epistasis_factor=float("nan")), "EhrlichInstance.epistasis_factor must be finite"),
        (lambda: EhrlichInstance(random_seed=1.5), r"EhrlichInstance.random_seed must be an integer >= 0, got 1.5"),
        (lambda: MosesSubset(("[C]", "[O]"), 10, 0), r"MosesSubset.tokens must start with '\[nop\]'"),
        (lambda: SequenceDomain(4, 5, MOLECULES.instance), r"num_states=4 differs from the 3 tokens"),
    ],
)
def test_bad_values_are_named(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize(
    "data, match",
    [
        ({"domain": "proteins"}, r"SequenceDomain.domain must be one of \('ehrlich', 'moses'\), got 'proteins'"),
        ({"domain": "moses", "num_states": 3, "length": 5}, "SequenceDomain is missing instance"),
        ({**MOLECULES.to_dict(), "extra": 1}, "SequenceDomain has unexpected keys extra"),
        ({**MOLECULES.to_dict(), "instance": {"tokens": ["[nop]", "[C]", "[O]"], "size": 100}}, "MosesSubset is missing seed"),
        ({**PUBLISHED.to_dict(), "instance": {"noise_std": 0.1}}, "EhrlichInstance has unexpected keys noise_std"),
    ],
)
def test_bad_dicts_are_named(data, match):
    with pytest.raises(ValueError, match=match):
        SequenceDomain.from_dict(data)


def test_a_moses_subset_records_how_its_molecules_were_written():
    from rewardsde.domains import rings_first

    old = SequenceDomain.from_dict({"domain": "moses", "num_states": 2, "length": 4,
                                    "instance": {"tokens": ["[nop]", "[C]"], "size": 10, "seed": 0}})
    assert old.instance.rings_first == 0, "models saved before the option learned MOSES's own writing"
    assert old.instance.written(["c1ccc(C)cc1"]) == ["c1ccc(C)cc1"]
    subset = MosesSubset(("[nop]", "[C]"), 10, 3, rings_first=8)
    assert SequenceDomain.from_dict(SequenceDomain(2, 4, subset).to_dict()).instance == subset
    assert subset.written(["c1ccc(C)cc1", "CCO"]) == rings_first(["c1ccc(C)cc1", "CCO"], 8, 3)
    with pytest.raises(ValueError, match="MosesSubset.rings_first must be an integer >= 0, got -1"):
        MosesSubset(("[nop]", "[C]"), 10, 3, rings_first=-1)
