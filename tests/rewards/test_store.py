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
