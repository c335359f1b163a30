"""The label store: append-only, exact keys, corrupt lines reported by number and skipped."""

import json

import pytest
import torch

from rewardsde.rewards import LabelStore


def _write(path, n, seed=0):
    store = LabelStore(path)
    x = torch.randn(n, 3, generator=torch.Generator().manual_seed(seed))
    store.add(x, x.sum(1))
    return x


def test_append_and_reload_keep_order_and_exact_values(tmp_path):
    path = tmp_path / "labels.jsonl"
    x = _write(path, 5)
    store = LabelStore(path)
    stored_x, stored_y, feasible = store.tensors()
    assert torch.equal(stored_x, x.double()) and torch.equal(stored_y, x.sum(1).double()) and feasible.all()
    y, known = store.lookup(x[[4, 0]])
    assert known.all() and torch.equal(y, x.sum(1).double()[[4, 0]])
    assert store.add(x[:2], x.sum(1)[:2]) == 0
    assert len(path.read_text().splitlines()) == 5


def test_corrupt_and_truncated_lines_are_reported_by_number_and_the_rest_kept(tmp_path):
    path = tmp_path / "labels.jsonl"
    x = _write(path, 4)
    lines = path.read_text().splitlines()
    lines[1] = "{not json"
    lines[2] = json.dumps({"x": [1.0], "shape": [3]})
    path.write_text("\n".join(lines) + "\n" + lines[3][:20])
    with pytest.warns(UserWarning) as caught:
        store = LabelStore(path)
    messages = [str(w.message) for w in caught]
    assert any(f"{path}:2:" in m for m in messages)
    assert any(f"{path}:3:" in m for m in messages)
    assert any(f"{path}:5:" in m for m in messages)
    assert len(store) == 2
    assert store.lookup(x[[0, 3]])[1].all()
    store.add(x[1:2], x[1:2].sum(1))
    with pytest.warns(UserWarning):
        reloaded = LabelStore(path)
    assert len(reloaded) == 3


def test_a_new_file_receives_the_labels_already_in_memory(tmp_path):
    x = _write(tmp_path / "old.jsonl", 3)
    store = LabelStore(tmp_path / "old.jsonl", write=False)
    store.open(tmp_path / "new.jsonl")
    assert len((tmp_path / "new.jsonl").read_text().splitlines()) == 3
    assert LabelStore(tmp_path / "new.jsonl").lookup(x)[1].all()


def test_label_count_must_match(tmp_path):
    with pytest.raises(ValueError, match="x has 3 rows, y has shape"):
        LabelStore().add(torch.zeros(3, 2), torch.zeros(2))


EHRLICH = {"domain": "ehrlich", "num_states": 20, "length": 32, "instance": {"motif_length": 4, "random_seed": 0}}
OTHER = {**EHRLICH, "instance": {"motif_length": 4, "random_seed": 1}}


def _labels(path):
    return [line for line in path.read_text().splitlines() if '"x"' in line]


def test_a_file_of_another_instance_is_refused_naming_both_and_left_alone(tmp_path):
    path = tmp_path / "labels.jsonl"
    store = LabelStore(path, fingerprint=EHRLICH)
    x = torch.randn(3, 2, generator=torch.Generator().manual_seed(0))
    store.add(x, x.sum(1))
    before = path.read_text()
    other = LabelStore(fingerprint=OTHER)
    with pytest.raises(ValueError, match=r"labels.jsonl holds labels of another instance: it was written for "
                                         r"instance.random_seed=0, this store is for instance.random_seed=1"):
        other.open(path)
    assert len(other) == 0 and other.path is None and path.read_text() == before
    with pytest.raises(ValueError, match="instance.random_seed=0, this store is for instance.random_seed=1"):
        other.merge_file(path)
    same = LabelStore(path, fingerprint=EHRLICH)
    assert same.lookup(x)[1].all() and len(_labels(path)) == 3


def test_a_checkpoint_of_another_instance_is_refused(tmp_path):
    store = LabelStore(fingerprint=EHRLICH)
    store.add(torch.zeros(1, 2), torch.zeros(1))
    torch.save(store.state_dict(), tmp_path / "state.pt")
    state = torch.load(tmp_path / "state.pt", weights_only=True)
    with pytest.raises(ValueError, match="checkpoint's label store holds labels of another instance"):
        LabelStore(fingerprint=OTHER).load_state_dict(state)
    assert LabelStore(fingerprint=EHRLICH).load_state_dict(state) == 1
    older = {key: value for key, value in state.items() if key != "fingerprint"}
    assert LabelStore(fingerprint=OTHER).load_state_dict(older) == 1, "a checkpoint without one is taken as it is"


def test_an_old_file_without_fingerprint_opens_with_a_warning_and_is_checked_from_then_on(tmp_path):
    path = tmp_path / "old.jsonl"
    x = _write(path, 3)
    with pytest.warns(UserWarning, match="has no fingerprint: its 3 labels are taken to be of .*random_seed=0"):
        adopted = LabelStore(path, fingerprint=EHRLICH)
    assert adopted.lookup(x)[1].all()
    with pytest.raises(ValueError, match="another instance"):
        LabelStore(path, fingerprint=OTHER)
    unmarked = _write(tmp_path / "unmarked.jsonl", 2)
    reader = LabelStore(tmp_path / "unmarked.jsonl", write=False, fingerprint=OTHER)
    assert reader.lookup(unmarked)[1].all(), "a reader opens an old file as before"


def test_a_store_without_fingerprint_takes_the_file_s(tmp_path):
    path = tmp_path / "labels.jsonl"
    LabelStore(path, fingerprint=EHRLICH).add(torch.zeros(1, 2), torch.zeros(1))
    plain = LabelStore(path)
    assert plain.fingerprint == EHRLICH and len(plain) == 1
    with pytest.raises(ValueError, match="another instance"):
        plain.merge_file(_fingerprinted(tmp_path / "other.jsonl", OTHER))


def _fingerprinted(path, fingerprint):
    LabelStore(path, fingerprint=fingerprint).add(torch.ones(1, 2), torch.ones(1))
    return path
