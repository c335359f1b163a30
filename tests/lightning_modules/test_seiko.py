"""SeikoModule: rounds of query, refit and fine-tuning; budget and label-store guarantees
proven on real runs that are killed and resumed."""

import json
import math
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch

from rewardsde import NetworkCorrection
from rewardsde.analytic import GaussianMixturePrior, ModeReward
from rewardsde.callbacks import SampleEvaluation
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.lightning_modules import SeikoModule
from rewardsde.rewards import GreedyReward, Oracle
from tests.helpers.seiko_run import main as uninterrupted_run

HERE = Path(__file__).resolve().parent
MODES = [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]]

pytestmark = pytest.mark.usefixtures("one_thread")


def _module(budget=16, round_sizes=(8, 8), **overrides):
    torch.manual_seed(0)
    oracle = Oracle(ModeReward(MODES, [0.0, 1.0, 2.0], 1.0), budget=budget, noise_std=0.1)
    kwargs = dict(alpha=0.5, beta=0.5, backend="direct", method="euler", steps=5, drift_steps=2, value_steps=1,
                  initial_steps=1, initial_hidden=8, initial_solver_steps=3)
    return SeikoModule(GaussianMixturePrior([0.6, 0.3, 0.1], MODES, [0.4, 0.4, 0.4]), NetworkCorrection(hidden=8),
                       oracle, GreedyReward(heads=2, hidden=8, epochs=20, patience=5), round_sizes=list(round_sizes),
                       **(kwargs | overrides))


def _trainer(tmp_path, **overrides):
    kwargs = dict(accelerator="cpu", default_root_dir=tmp_path, logger=False, enable_progress_bar=False,
                  enable_model_summary=False, enable_checkpointing=False)
    return L.Trainer(**(kwargs | overrides))


class PreviousAtRoundStart(L.Callback):
    """The correction just before the module starts round 2 (callbacks run first)."""

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        if trainer.global_step == module.round_length:
            self.expected = {k: v.clone() for k, v in module.controlled.correction.state_dict().items()}


def test_a_run_buys_each_round_refits_and_regularises_to_the_frozen_previous_round(tmp_path):
    module = _module()
    recorder = PreviousAtRoundStart()
    evaluation = SampleEvaluation(every_n_steps=module.round_length, samples=16, at_start=True)
    trainer = _trainer(tmp_path, callbacks=[recorder, evaluation])
    trainer.fit(module, FineTuneDataModule(batch_size=8))
    assert trainer.global_step == module.total_steps == 8
    oracle = module.oracle
    assert oracle.spent == oracle.calls == 16
    lines = (tmp_path / "labels.jsonl").read_text().splitlines()
    assert len(lines) == 16 and len({json.dumps(json.loads(line)["x"]) for line in lines}) == 16
    assert [q for q, _ in evaluation.reward_versus_queries()] == [0, 8, 16]
    assert all(0 <= e["seiko/coverage"] <= 1 or math.isnan(e["seiko/coverage"]) for e in evaluation.evaluations)
    assert all(e["seiko/eval_bonus"] == 0 for e in evaluation.evaluations if not math.isnan(e["seiko/eval_bonus"]))
    frozen = module.controlled.previous.correction.state_dict()
    assert all(torch.equal(frozen[k], v) for k, v in recorder.expected.items())
    live = module.controlled.correction.state_dict()
    assert any(not torch.equal(frozen[k], live[k]) for k in live)
    logged = trainer.callback_metrics
    for key in ("train/kl_previous", "train/kl_initial_previous", "train/reward", "train/loss_initial"):
        assert key in logged and torch.isfinite(logged[key]), key


def test_round_one_regularises_to_the_pretrained_model(tmp_path):
    module = _module(round_sizes=(8,), budget=8, drift_steps=1, learn_initial=False)
    _trainer(tmp_path, max_steps=1).fit(module, FineTuneDataModule(batch_size=8))
    x = torch.randn(4, 2)
    assert torch.equal(module.controlled.previous(torch.tensor(0.5), x), torch.zeros(4, 2))


def test_budget_smaller_than_the_first_round_is_refused_at_start_up():
    with pytest.raises(ValueError, match=r"oracle budget \(6\) is smaller than the first round \(8 queries\)"):
        _module(budget=6)
    with pytest.raises(ValueError, match=r"need 16 queries, more than the oracle budget \(12\)"):
        _module(budget=12)


@pytest.mark.parametrize("kwargs, message", [
    (dict(beta=-0.1), "beta must be non-negative"),
    (dict(round_sizes=()), "round_sizes must be a non-empty list"),
    (dict(alpha=0.0), "alpha must be positive"),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _module(**kwargs)


def _run(out, kill_at=0, checkpoint=None):
    command = [sys.executable, str(HERE.parent / "helpers" / "seiko_run.py"), str(out), str(kill_at)] + ([str(checkpoint)] if checkpoint else [])
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def _calls(out):
    return sum(int(line) for line in (out / "calls.txt").read_text().split())


def test_killed_and_resumed_run_buys_nothing_twice_and_ends_like_an_uninterrupted_run(tmp_path):
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    whole.mkdir(), broken.mkdir()
    uninterrupted_run(whole, kill_at=0, checkpoint=None)
    killed = _run(broken, kill_at=12)
    assert killed.returncode == 17, killed.stderr[-3000:]
    assert _calls(broken) == 12 and len((broken / "run" / "labels.jsonl").read_text().splitlines()) == 12
    resumed = _run(broken, checkpoint=broken / "ckpt" / "last.ckpt")
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    assert _calls(broken) == _calls(whole) == 24
    lines = (broken / "resumed" / "labels.jsonl").read_text().splitlines()
    xs = [json.dumps(json.loads(line)["x"]) for line in lines]
    assert len(xs) == len(set(xs)) == 24
    assert lines == (whole / "run" / "labels.jsonl").read_text().splitlines()
    expected = torch.load(whole / "final.pt", weights_only=True)
    got = torch.load(broken / "final.pt", weights_only=True)
    assert got["last"] == expected["last"]
    for name, value in expected["state"].items():
        assert torch.equal(got["state"][name], value), name


def test_cli_refuses_a_budget_below_the_first_round_before_anything_runs(tmp_path):
    config = HERE.parents[1] / "configs" / "seiko_analytic.yaml"
    command = [str(Path(sys.executable).parent / "rewardsde"), "fit", "--config", str(config),
               "--model.init_args.oracle.init_args.budget=32"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode != 0
    assert "oracle budget (32) is smaller than the first round (64 queries)" in result.stderr
    assert not list(tmp_path.rglob("labels.jsonl"))


class PoolRewards(L.Callback):
    """The tilted objective's pool rewards after every step."""

    def __init__(self):
        self.seen = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.seen.append(module.objective.rewards.clone())


def _tilted_module(refresh_pool=0.0, **pool_options):
    from rewardsde import DenoiserCorrection, PretrainedSDE
    from tests.helpers.tiny_eps import TinyEps

    torch.manual_seed(0)
    oracle = Oracle(ModeReward(MODES, [0.0, 1.0, 2.0], 1.0), budget=16, noise_std=0.1)
    return SeikoModule(PretrainedSDE(TinyEps(), (2,)), DenoiserCorrection(), oracle,
                       GreedyReward(heads=2, hidden=8, epochs=20, patience=5), round_sizes=[8, 8], alpha=0.5,
                       beta=0.0, estimator="tilted", pool=32, learn_initial=False, backend="direct",
                       method="euler", steps=4, drift_steps=2, refresh_pool=refresh_pool, **pool_options)


def test_the_tilted_estimator_rescores_its_pretrained_pool_after_each_refit(tmp_path):
    module = _tilted_module()
    assert module.controlled.previous is None
    pool = PoolRewards()
    trainer = _trainer(tmp_path, callbacks=[pool])
    trainer.fit(module, FineTuneDataModule(batch_size=8))
    assert trainer.global_step == 4 and module.oracle.spent == 16
    first, second = pool.seen[1], pool.seen[2]  # the last step of round 0, the first of round 1
    assert torch.equal(pool.seen[0], first) and not torch.equal(first, second)
    with torch.no_grad():
        assert torch.allclose(second, module.reward(module.objective.samples).double())


def test_a_refreshed_pool_is_redrawn_each_round_and_restored_from_the_checkpoint(tmp_path):
    module = _tilted_module(refresh_pool=0.5)
    pools = PoolSamples()
    trainer = _trainer(tmp_path, callbacks=[pools])
    trainer.fit(module, FineTuneDataModule(batch_size=8))
    first, second = pools.seen[1], pools.seen[2]  # the last step of round 0, the first of round 1
    # the pretrained half is kept, the other half is the copy's
    assert torch.equal(pools.seen[0], first) and torch.equal(first[:16], second[:16]) and not torch.equal(first, second)
    objective = module.objective
    trainer.save_checkpoint(tmp_path / "last.ckpt")
    restored = _tilted_module(refresh_pool=0.5)
    checkpoint = torch.load(tmp_path / "last.ckpt", weights_only=False)
    restored.on_load_checkpoint(checkpoint)
    restored.load_state_dict(checkpoint["state_dict"])
    assert torch.equal(restored.objective.samples, objective.samples)
    assert torch.equal(restored.objective.weights(), objective.weights())


def _jitter(anchors, k, generator):
    """Draws 0.01·N(0, I) around an anchor chosen uniformly."""
    pick = torch.randint(len(anchors), (k,), generator=generator)
    return anchors[pick] + 0.01 * torch.randn(k, anchors.shape[1], generator=generator)


def test_neighbours_of_the_best_label_join_the_pool_each_round_and_are_restored_from_the_checkpoint(tmp_path):
    module = _tilted_module(neighbours=8, propose=_jitter, anchors=1)
    pools = PoolSamples()
    trainer = _trainer(tmp_path, callbacks=[pools])
    trainer.fit(module, FineTuneDataModule(batch_size=8))
    first, second = pools.seen[1], pools.seen[2]  # the last step of round 0, the first of round 1
    assert first.shape == second.shape == (40, 2) and torch.equal(first[:32], second[:32])
    x, y, _ = module.oracle.store.tensors()
    best = x[y.argmax()]  # after round 1: the neighbours surround the best of all 16 labels
    assert (second[32:] - best).abs().max() < 0.1
    trainer.save_checkpoint(tmp_path / "last.ckpt")
    restored = _tilted_module(neighbours=8, propose=_jitter, anchors=1)
    checkpoint = torch.load(tmp_path / "last.ckpt", weights_only=False)
    restored.on_load_checkpoint(checkpoint)
    restored.load_state_dict(checkpoint["state_dict"])
    assert torch.equal(restored.objective.samples, module.objective.samples)
    assert torch.equal(restored.objective.weights(), module.objective.weights())


def test_with_a_canonical_design_the_module_buys_each_design_once(tmp_path):
    module = _tilted_module(canonical=lambda x: (2 * x).round() / 2 + 0.0)
    trainer = _trainer(tmp_path)
    trainer.fit(module, FineTuneDataModule(batch_size=8))
    x = module.oracle.store.tensors()[0]
    assert module.oracle.spent == len(x) == 16 and torch.equal(x, (2 * x).round() / 2)
    assert len({tuple(row.tolist()) for row in x}) == 16


def test_with_target_draws_the_module_buys_its_second_round_from_the_pool(tmp_path):
    module = _tilted_module(target=1.0)
    trainer = _trainer(tmp_path)
    trainer.fit(module, FineTuneDataModule(batch_size=8))
    x = module.oracle.store.tensors()[0]
    pool = {tuple(row.tolist()) for row in module.objective.samples}
    assert module.oracle.spent == 16 and not any(tuple(row.tolist()) in pool for row in x[:8])
    assert all(tuple(row.tolist()) in pool for row in x[8:])


def test_refresh_pool_needs_the_tilted_estimator():
    with pytest.raises(ValueError, match="refresh_pool and neighbours change the pool of estimator='tilted'"):
        _module(refresh_pool=0.5)
    with pytest.raises(ValueError, match="refresh_pool and neighbours change the pool of estimator='tilted'"):
        _module(neighbours=8, propose=_jitter)


class PoolSamples(L.Callback):
    """The tilted objective's pool after every step."""

    def __init__(self):
        self.seen = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.seen.append(module.objective.samples.clone())
