"""SEIKO on two CPU processes (gloo): queries are sharded, labels gathered and stored once."""

import json

import lightning as L
import torch

from rewardsde import NetworkCorrection
from rewardsde.analytic import GaussianMixturePrior, ModeReward
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.lightning_modules import SeikoModule
from rewardsde.rewards import Oracle, UCBReward

MODES = [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]]


class SaveRank(L.Callback):
    def __init__(self, directory):
        self.directory = directory

    def on_train_end(self, trainer, module):
        torch.set_num_threads(1)
        summary = {"spent": module.oracle.spent, "calls": module.oracle.calls, "reward": module.reward.state_dict()}
        torch.save(summary, self.directory / f"rank{trainer.global_rank}.pt")


def test_two_ranks_share_the_queries_and_store_each_label_once(tmp_path):
    torch.manual_seed(0)
    module = SeikoModule(
        GaussianMixturePrior([0.6, 0.3, 0.1], MODES, [0.4, 0.4, 0.4]), NetworkCorrection(hidden=8),
        Oracle(ModeReward(MODES, [0.0, 1.0, 2.0], 1.0), budget=16, noise_std=0.1),
        UCBReward(heads=2, hidden=8, epochs=20, patience=5), round_sizes=[8, 8], alpha=0.5, beta=0.5,
        backend="direct", method="euler", steps=4, drift_steps=1, learn_initial=False,
        label_store=str(tmp_path / "labels.jsonl"),
    )
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy="ddp_spawn", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[SaveRank(tmp_path)])
    trainer.fit(module, FineTuneDataModule(batch_size=4))
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert [r["spent"] for r in ranks] == [16, 16]
    assert [r["calls"] for r in ranks] == [8, 8]
    for name, value in ranks[0]["reward"].items():
        assert torch.equal(value, ranks[1]["reward"][name]), name
    lines = (tmp_path / "labels.jsonl").read_text().splitlines()
    assert len(lines) == len({json.dumps(json.loads(line)["x"]) for line in lines}) == 16


class RankDependentUCB(UCBReward):
    """A fit that differs on rank 1, as a nondeterministic fit could: only the broadcast makes the ranks agree."""

    def fit(self, *args, **kwargs):
        report = super().fit(*args, **kwargs)
        if torch.distributed.is_initialized() and torch.distributed.get_rank() == 1:
            with torch.no_grad():
                for p in self.parameters():
                    p.add_(0.5)
        return report


class SavePool(L.Callback):
    def __init__(self, directory):
        self.directory = directory

    def on_train_end(self, trainer, module):
        torch.set_num_threads(1)
        state = {"rewards": module.objective.rewards, "copy": module.controlled.correction.network.state_dict()}
        torch.save(state, self.directory / f"pool{trainer.global_rank}.pt")


def test_two_ranks_of_the_tilted_estimator_weight_one_pool_alike(tmp_path):
    """Each rank fits the reward model and rank 0's fit is broadcast: the pool must be rescored with it,
    so that both ranks resample with the same weights and end with the same copy of the network."""
    from rewardsde import DenoiserCorrection, PretrainedSDE
    from tests.helpers.tiny_eps import TinyEps

    torch.manual_seed(0)
    module = SeikoModule(
        PretrainedSDE(TinyEps(), (2,)), DenoiserCorrection(),
        Oracle(ModeReward(MODES, [0.0, 1.0, 2.0], 1.0), budget=16, noise_std=0.1),
        RankDependentUCB(heads=2, hidden=8, epochs=20, patience=5), round_sizes=[8, 8], alpha=0.5, beta=0.0,
        estimator="tilted", pool=32, backend="direct", method="euler", steps=4, drift_steps=2, learn_initial=False,
        label_store=str(tmp_path / "labels.jsonl"),
    )
    trainer = L.Trainer(accelerator="cpu", devices=2, strategy="ddp_spawn", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[SavePool(tmp_path)])
    trainer.fit(module, FineTuneDataModule(batch_size=4))
    ranks = [torch.load(tmp_path / f"pool{r}.pt", weights_only=True) for r in (0, 1)]
    assert ranks[0]["rewards"].shape == (32,)
    assert torch.equal(ranks[0]["rewards"], ranks[1]["rewards"])
    for name, value in ranks[0]["copy"].items():
        assert torch.equal(value, ranks[1]["copy"][name]), name


def _ddp_run(out, kill, checkpoint=None):
    import subprocess
    import sys
    from pathlib import Path

    helper = Path(__file__).resolve().parents[1] / "helpers" / "seiko_ddp_run.py"
    command = [sys.executable, str(helper), str(out), "1" if kill else "0"] + ([str(checkpoint)] if checkpoint else [])
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=root,
                          env={**__import__("os").environ, "PYTHONPATH": str(root)})


def _labels(path):
    return sorted(json.dumps([json.loads(line)["x"], json.loads(line)["y"]]) for line in path.read_text().splitlines()
                  if "fingerprint" not in line)


def test_two_ranks_killed_between_their_answers_and_the_gather_buy_nothing_twice(tmp_path):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    whole.mkdir(), broken.mkdir()
    uninterrupted = _ddp_run(whole, kill=False)
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-3000:]
    killed = _ddp_run(broken, kill=True)
    assert killed.returncode != 0
    calls = [int(n) for n in (broken / "calls.txt").read_text().split()]
    assert sum(calls) == 16  # both ranks answered round 2 (4 + 4 after the 8 of round 1), and died before the gather
    assert len((broken / "labels.jsonl").read_text().splitlines()) == 8  # the main store never saw round 2
    resumed = _ddp_run(broken, kill=False, checkpoint=broken / "ckpt" / "last.ckpt")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert sum(int(n) for n in (broken / "calls.txt").read_text().split()) == 24 == \
        sum(int(n) for n in (whole / "calls.txt").read_text().split())
    assert _labels(broken / "labels.jsonl") == _labels(whole / "labels.jsonl")
    assert len(set(_labels(broken / "labels.jsonl"))) == 24
    expected = torch.load(whole / "final.pt", weights_only=True)
    got = torch.load(broken / "final.pt", weights_only=True)
    for part in ("reward", "correction"):
        for name, value in expected[part].items():
            assert torch.equal(got[part][name], value), (part, name)
