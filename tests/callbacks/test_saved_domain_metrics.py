import pytest
import torch

from rewardsde.callbacks import BestReward, EhrlichFeasibility, MosesMetrics, SampleEvaluation
from rewardsde.domains import EhrlichReward, one_hot
from tests.helpers.tiny_sequences import save_ehrlich_model, save_moses_model


def test_ehrlich_feasibility_of_data_and_of_a_banned_transition(tmp_path):
    path = str(save_ehrlich_model(tmp_path / "ehrlich"))
    metric = EhrlichFeasibility(path)
    reward = EhrlichReward(20, 32, 2, 4)
    tokens = reward.sample(8, torch.Generator().manual_seed(0))
    banned = (reward.function.transition_matrix == 0).nonzero()[0]
    bad = tokens[:2].clone()
    bad[:, :2] = banned
    metric.update(one_hot(torch.cat([tokens, bad]), 20))
    assert metric.compute().item() == pytest.approx(8 / 10)
    with pytest.raises(ValueError, match=r"x has 21 states, the Ehrlich instance has 20"):
        metric.update(torch.zeros(2, 21, 32))


def test_a_model_directory_of_another_domain_is_named(tmp_path):
    moses = str(save_moses_model(tmp_path / "moses", num_states=4, length=3))
    with pytest.raises(ValueError, match=r"needs a model pretrained on an Ehrlich instance; the model at .*moses.* "
                                         r"was pretrained on MOSES molecules \(SELFIES of 4 tokens, length 3\)"):
        EhrlichFeasibility(moses)
    ehrlich = str(save_ehrlich_model(tmp_path / "ehrlich"))
    with pytest.raises(ValueError, match=r"needs a model pretrained on MOSES molecules; .* was pretrained on "
                                         r"an Ehrlich instance \(20 states, length 32, 2 motifs of length 4, seed 0\)"):
        MosesMetrics(ehrlich)


def test_best_reward_ignores_non_finite_values():
    metric = BestReward(lambda x: x[:, 0])
    metric.update(torch.tensor([[0.5], [float("nan")], [2.0]]))
    metric.update(torch.tensor([[1.0], [float("inf")]]))
    assert metric.compute().item() == 2.0
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        BestReward(lambda x: x).update(torch.zeros(2, 3))


def test_sample_evaluation_logs_extra_metrics_by_name():
    class Module:
        def reward(self, x):
            return x[:, 0]

        def rollout(self, n, seed):
            from rewardsde import Rollout

            x = torch.arange(float(n))[:, None].repeat(1, 2)
            return Rollout(x, x, torch.zeros(n), torch.zeros(n))

    class Trainer:
        global_step, world_size, global_rank, is_global_zero = 0, 1, 0, False

    callback = SampleEvaluation(samples=4, metrics={"best": BestReward(lambda x: x[:, 1])})
    values = callback.evaluate(Trainer(), Module())
    assert values["best"] == 3.0 and values["reward/learned"] == 1.5
