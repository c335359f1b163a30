import json

import lightning as L

from rewardsde import NetworkCorrection
from rewardsde.analytic import BrownianPrior, LinearReward
from rewardsde.callbacks import ExactTargetReport
from rewardsde.callbacks.report import main
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.lightning_modules import ElegantModule


def test_callback_writes_the_report_and_the_summary_reads_it(tmp_path, capsys):
    logger = L.pytorch.loggers.TensorBoardLogger(tmp_path, name="run")
    trainer = L.Trainer(accelerator="cpu", logger=logger, callbacks=[ExactTargetReport(samples=500)],
                        enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False)
    trainer.fit(ElegantModule(BrownianPrior(1), NetworkCorrection(hidden=8), LinearReward([1.0]), alpha=0.5,
                                 learn_initial=False, steps=4, drift_steps=2), FineTuneDataModule(batch_size=8))
    written = json.loads((tmp_path / "run" / "version_0" / "exact_target.json").read_text())
    assert written["exact_kl"] == 4.0
    main([str(tmp_path / "run")])
    assert "4.000" in capsys.readouterr().out
