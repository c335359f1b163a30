"""LabOracle and import_labels: designs go out once, labels come back in any order, parts and state,
and a run resumed from the lab's answers ends where an in-process run with the same labels ends."""

import csv
import json

import lightning as L
import pytest
import torch

from rewardsde import NetworkCorrection
from rewardsde.analytic import GaussianMixturePrior, ModeReward
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.lightning_modules import SeikoModule
from rewardsde.rewards import BudgetExhaustedError, GreedyReward, LabelsPending, LabOracle, Oracle, import_labels
from rewardsde.rewards.lab import design_id, describe_design

MODES = [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]]
TRUTH = Oracle(ModeReward(MODES, [0.0, 1.0, 2.0], 1.0), budget=10**6, noise_std=0.1, seed=7)

pytestmark = pytest.mark.usefixtures("one_thread")


def _read_queries(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def _x(row):
    return torch.tensor([float(v) for v in row["design"].split()], dtype=torch.float64)


def _write(path, rows):
    path.write_text("id,label\n" + "".join(f"{i},{v}\n" for i, v in rows))
    return path


def test_designs_are_sent_once_counted_on_sending_and_written_readably(tmp_path):
    lab = LabOracle(tmp_path / "lab", budget=5)
    x = torch.tensor([[0.5, -1.25], [3.0, 1e-7], [0.5, -1.25]])
    with pytest.raises(LabelsPending, match="round 2: 2 designs wait") as raised:
        lab.query(x, round_index=2)
    assert "import-labels" in str(raised.value) and "same `rewardsde fit` command" in str(raised.value)
    assert lab.spent == 2
    rows = _read_queries(tmp_path / "lab" / "queries" / "round_2.csv")
    assert [r["id"] for r in rows] == [design_id(x[0]), design_id(x[1])]
    assert torch.equal(torch.stack([_x(r) for r in rows]), x[:2].double())  # the readable form reads back exactly
    with pytest.raises(LabelsPending):
        lab.query(x, round_index=2)
    assert lab.spent == 2 and len((tmp_path / "lab" / "sent.jsonl").read_text().splitlines()) == 2
    assert torch.equal(lab.sent_batch(2), x[:2].double()) and lab.sent_batch(0) is None
    assert LabOracle(tmp_path / "lab", budget=5).spent == 2  # the ledger survives the process
    with pytest.raises(BudgetExhaustedError, match="2 of 5 labels spent, 4 more"):
        lab.query(torch.randn(4, 2), round_index=3)
    assert lab.spent == 2


def test_design_ids_are_stable_and_sequences_read_as_letters():
    x = torch.tensor([[1.0, 2.0]])
    assert design_id(x[0]) == design_id(x[0].clone()) != design_id(torch.tensor([1.0, 2.5]))
    one_hot = torch.nn.functional.one_hot(torch.tensor([[0, 3, 19]]), 20).transpose(1, 2).float()
    assert describe_design(one_hot) == ["AEY"]
    wide = torch.nn.functional.one_hot(torch.tensor([[0, 25]]), 32).transpose(1, 2).float()
    assert describe_design(wide) == ["0-25"]


def _sent_lab(tmp_path, n=4):
    lab = LabOracle(tmp_path / "lab", budget=10, infeasible_value=-1.0)
    x = torch.arange(2 * n, dtype=torch.float32).reshape(n, 2) / 4
    with pytest.raises(LabelsPending):
        lab.query(x)
    return lab, [design_id(row) for row in x], x


def test_a_lab_answering_out_of_order_in_parts_with_a_failure_and_a_corrupt_line(tmp_path):
    lab, ids, x = _sent_lab(tmp_path)
    part_one = _write(tmp_path / "one.csv", [(ids[2], "0.25"), (ids[0], "oops"), (ids[3], "failed")])
    with pytest.raises(ValueError, match=r"one.csv:3: label 'oops' .* is not a finite number") as raised:
        import_labels(tmp_path / "lab", part_one)
    assert "nothing was stored" in str(raised.value)
    assert not (tmp_path / "lab" / "labels.jsonl").exists()
    _write(part_one, [(ids[2], "0.25"), (ids[3], "FAILED")])
    report = import_labels(tmp_path / "lab", part_one)
    assert (report.labelled, report.failed, report.unchanged) == (1, 1, 0)
    assert report.waiting == [ids[0], ids[1]] and "2 designs sent out still wait" in str(report)
    again = import_labels(tmp_path / "lab", part_one)  # importing twice stores once
    assert (again.labelled, again.failed, again.unchanged) == (0, 0, 2)
    part_two = _write(tmp_path / "two.csv", [(ids[1], "-0.5"), (ids[0], "1.5")])
    assert import_labels(tmp_path / "lab", part_two).waiting == []
    lab.store.open(lab.store_path)
    assert lab.query(x).tolist() == [1.5, -0.5, 0.25, -1.0]
    assert lab.store.tensors()[2].tolist() == [True, False, True, True]  # arrival order: ids 2, 3, 1, 0
    assert lab.spent == 4


@pytest.mark.parametrize("rows, message", [
    ("another", "no id in .* was sent out .* another run"),
    ("unknown", r"bad.csv:3: id 'feedfacefeedface' was never sent out"),
    ("twice", r"bad.csv:3: .* is labelled '2.0' here and '1.0' at .*bad.csv:2"),
    ("stored", r"bad.csv:2: .* is already stored with the label 1.0, not '3.0'"),
    ("inf", r"label 'inf' .* is not a finite number"),
])
def test_bad_label_files_are_named_by_line_and_store_nothing(tmp_path, rows, message):
    lab, ids, _ = _sent_lab(tmp_path)
    if rows == "stored":
        import_labels(tmp_path / "lab", _write(tmp_path / "first.csv", [(ids[0], "1.0")]))
    rows = {"stored": [(ids[0], "3.0")], "another": [("0123456789abcdef", "1.0")], "unknown": [(ids[0], "1.0"), ("feedfacefeedface", "1.0")],
            "twice": [(ids[0], "1.0"), (ids[0], "2.0")], "inf": [(ids[0], "inf")]}[rows]
    before = (tmp_path / "lab" / "labels.jsonl").read_text() if (tmp_path / "lab" / "labels.jsonl").exists() else None
    with pytest.raises(ValueError, match=message):
        import_labels(tmp_path / "lab", _write(tmp_path / "bad.csv", rows))
    after = (tmp_path / "lab" / "labels.jsonl").read_text() if (tmp_path / "lab" / "labels.jsonl").exists() else None
    assert after == before


def test_a_labels_file_needs_its_columns_and_a_directory_needs_a_ledger(tmp_path):
    _sent_lab(tmp_path)
    (tmp_path / "bad.csv").write_text("design,value\nx,1\n")
    with pytest.raises(ValueError, match="columns id and label"):
        import_labels(tmp_path / "lab", tmp_path / "bad.csv")
    with pytest.raises(ValueError, match="has sent no designs out"):
        import_labels(tmp_path / "elsewhere", tmp_path / "bad.csv")


def _module(oracle):
    torch.manual_seed(0)
    return SeikoModule(GaussianMixturePrior([0.6, 0.3, 0.1], MODES, [0.4, 0.4, 0.4]), NetworkCorrection(hidden=8),
                       oracle, GreedyReward(heads=2, hidden=8, epochs=20, patience=5), round_sizes=[8, 8],
                       alpha=0.5, beta=0.5, backend="direct", method="euler", steps=5, drift_steps=2, value_steps=1,
                       initial_steps=1, initial_hidden=8, initial_solver_steps=3, label_store=None)


def _fit(module, tmp_path, ckpt_path=None):
    trainer = L.Trainer(accelerator="cpu", default_root_dir=tmp_path, logger=False, enable_progress_bar=False,
                        enable_model_summary=False, enable_checkpointing=False, max_epochs=-1)
    trainer.fit(module, FineTuneDataModule(batch_size=8), ckpt_path=ckpt_path)
    return trainer


class FailsOn(torch.nn.Module):
    """The genuine reward, NaN (infeasible) on one design: the in-process twin of a failed assay."""

    def __init__(self, failed):
        super().__init__()
        self.failed = failed

    def forward(self, x):
        value = TRUTH.reward(x)
        return torch.where((x.double() == self.failed).all(1), torch.full_like(value, float("nan")), value)


def test_a_resumed_lab_run_ends_where_an_in_process_run_with_the_same_labels_ends(tmp_path):
    directory = tmp_path / "lab"
    failed = None
    for round_index in range(2):
        module = _module(LabOracle(directory, budget=16))
        trainer = _fit(module, tmp_path / "runs", ckpt_path=module.oracle.checkpoint if round_index else None)
        assert module.waiting_for_lab and trainer.global_step == round_index * module.round_length
        rows = _read_queries(directory / "queries" / f"round_{round_index}.csv")
        assert len(rows) == 8 and module.oracle.spent == 8 * (round_index + 1)
        answers = [TRUTH.ask(_x(r)[None]) for r in rows]  # the lab reports an infeasible design as failed
        labels = [(r["id"], float(y) if ok else "failed") for r, (y, ok) in zip(rows, answers)]
        if round_index == 0:  # one design fails; the lab answers in two parts, the first with a corrupt line
            failed = _x(rows[5])  # a design the lab could not measure, whatever its reward
            labels[5] = (labels[5][0], "failed")
            with pytest.raises(ValueError, match="one.csv:2: label 'n/a'"):
                import_labels(directory, _write(tmp_path / "one.csv", [(labels[6][0], "n/a")] + labels[4:][::-1]))
        first = _write(tmp_path / "one.csv", labels[4:][::-1])
        assert import_labels(directory, first).waiting == [i for i, _ in labels[:4]]
        assert import_labels(directory, _write(tmp_path / "two.csv", labels[:4])).waiting == []
    lab_run = _module(LabOracle(directory, budget=16))
    trainer = _fit(lab_run, tmp_path / "runs", ckpt_path=lab_run.oracle.checkpoint)
    assert not lab_run.waiting_for_lab and trainer.global_step == lab_run.total_steps
    assert not lab_run.oracle.checkpoint.exists() and lab_run.oracle.spent == 16
    sent = [json.loads(line) for line in (directory / "sent.jsonl").read_text().splitlines()]
    assert len({r["id"] for r in sent}) == len(sent) == 16  # nothing sent twice

    in_process = _module(Oracle(FailsOn(failed), budget=16, noise_std=0.1, seed=7))
    _fit(in_process, tmp_path / "reference")
    assert in_process.oracle.calls == 16
    lab_x, lab_y, lab_ok = lab_run.oracle.store.tensors()
    ref_x, ref_y, ref_ok = in_process.oracle.store.tensors()
    order, ref_order = lab_x.flatten(1).argsort(0)[:, 0], ref_x.flatten(1).argsort(0)[:, 0]
    assert torch.equal(lab_x[order], ref_x[ref_order]) and torch.equal(lab_y[order], ref_y[ref_order])
    assert torch.equal(lab_ok[order], ref_ok[ref_order])
    for (name, got), expected in zip(lab_run.state_dict().items(), in_process.state_dict().values()):
        torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-7, msg=name)


def test_a_ledger_line_cut_by_a_crash_was_never_sent_and_is_dropped(tmp_path):
    lab, ids, x = _sent_lab(tmp_path)
    ledger = tmp_path / "lab" / "sent.jsonl"
    with open(ledger, "a") as file:
        file.write('{"id": "cut", "round"')  # the crash came mid-line, before the CSV was written
    again = LabOracle(tmp_path / "lab", budget=10)
    assert again.spent == 4
    with pytest.raises(LabelsPending):
        again.query(torch.tensor([[9.0, 9.0]]), round_index=1)
    assert again.spent == 5 and len(LabOracle(tmp_path / "lab", budget=10).sent) == 5
    assert all(line.endswith("}") for line in ledger.read_text().splitlines())
