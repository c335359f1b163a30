"""rewardsde: fine-tune pretrained diffusion models toward a reward without reward collapse.

The core (this package) is plain torch and torchsde: schedules, the pretrained SDE,
drift corrections, the controlled SDE with its running cost, :func:`solve` with three
gradient back ends, the learned initial law, rewards and exact analytic tasks.
Lightning modules, data modules and callbacks live in ``rewardsde.lightning_modules``,
``rewardsde.datamodules`` and ``rewardsde.callbacks``.

``import rewardsde`` imports neither Lightning nor diffusers, peft or transformers:
the classes built on diffusers (:class:`DDPMPipelineSDE`, :class:`LatentDiffusionSDE`,
:class:`LoraCorrection`, :func:`export_pipeline`) import them when they are used.
"""

from .brownian import BrownianPrior
from .controlled import ControlledSDE
from .corrections import DriftCorrection, NetworkCorrection, ZeroCorrection
from .diffusers_eps import DiffusersEps
from .export import export_pipeline
from .frozen import FrozenDrift
from .initial_law import LearnedInitialLaw
from .lora import LoraCorrection
from .nets import MLP
from .pipelines import DDPMPipelineSDE, LatentDiffusionSDE
from .pretrained import PretrainedSDE
from .reference import ReferenceSDE
from .sampling import sample_reference
from .schedule import VPSchedule
from .solve import Solution, solve

__all__ = [
    "BrownianPrior",
    "ControlledSDE",
    "DDPMPipelineSDE",
    "DiffusersEps",
    "DriftCorrection",
    "FrozenDrift",
    "LatentDiffusionSDE",
    "LearnedInitialLaw",
    "LoraCorrection",
    "MLP",
    "NetworkCorrection",
    "PretrainedSDE",
    "ReferenceSDE",
    "Solution",
    "VPSchedule",
    "ZeroCorrection",
    "export_pipeline",
    "sample_reference",
    "solve",
]
