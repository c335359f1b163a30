"""The ``rewardsde`` command: LightningCLI with class_path/init_args YAML.

    rewardsde fit --config configs/elegant_gaussian.yaml --model.init_args.alpha=0.25
    rewardsde fit --config $(rewardsde config-path elegant_gaussian)   # the packaged copy
    rewardsde config-path                                               # the packaged configs
    rewardsde seiko import-labels lab/ labels.csv                       # a lab's answers for a waiting run

Configs are read in ``omegaconf+`` mode: ``${...}`` interpolation is resolved after
the command line is merged, so an override of a referenced field reaches every
field that references it.

A ``ValueError`` or a rewardsde error (:class:`rewardsde.rewards.BudgetExhaustedError`)
raised while the config's objects are built or while the subcommand runs is printed as
``error: <message>`` with the class and the config that raised it, in at most four
lines, and the command exits with status 2. ``--debug`` anywhere on the command line,
or the environment variable ``REWARDSDE_DEBUG=1``, shows the full traceback instead.
jsonargparse's own errors (an unknown key, a value of the wrong type) are printed by
jsonargparse, as usual.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from types import TracebackType

from .example_configs import config_names, config_path
from .rewards.oracle import BudgetExhaustedError

USER_ERRORS = (ValueError, BudgetExhaustedError)
DEBUG_FLAG = "--debug"
DEBUG_ENV = "REWARDSDE_DEBUG"
FRAMEWORKS = {"lightning", "pytorch_lightning", "lightning_fabric", "jsonargparse", "torch", "builtins"}


def main(args: list[str] | None = None) -> None:
    """Run the CLI; ``args`` defaults to ``sys.argv[1:]``."""
    from_argv = args is None
    args = list(sys.argv[1:] if from_argv else args)
    debug = DEBUG_FLAG in args or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    args = [arg for arg in args if arg != DEBUG_FLAG]
    if args[:1] == ["config-path"]:
        sys.exit(_config_path(args[1:]))
    if args[:1] == ["seiko"]:
        sys.exit(_seiko(args[1:]))
    if from_argv:
        sys.argv[1:] = args
    try:
        _lightning_cli(None if from_argv else args)
    except USER_ERRORS as error:
        if debug:
            raise
        print(_one_line_report(error, args), file=sys.stderr)
        sys.exit(2)


def _lightning_cli(args: list[str] | None) -> None:
    import lightning as L
    import torch
    from lightning.pytorch.cli import LightningCLI

    class RewardsdeCLI(LightningCLI):
        """LightningCLI that refuses another method's checkpoint before it rewrites the config.

        LightningCLI replaces the config's model by the one recorded in ``--ckpt_path``;
        a checkpoint written by another rewardsde module is refused here, by name,
        instead of failing later inside jsonargparse.
        """

        def parse_arguments(self, parser, args) -> None:  # noqa: ANN001 (LightningCLI's signature)
            super().parse_arguments(parser, args)
            subcommand = self.config.get("subcommand")
            section = self.config.get(subcommand) if subcommand else None
            path = section.get("ckpt_path") if section is not None else None
            model = section.get("model") if section is not None else None
            if not path or model is None or not Path(path).is_file():
                return
            method = torch.load(path, weights_only=True, map_location="cpu").get("rewardsde_method")
            wanted = str(model.get("class_path", "")).rsplit(".", 1)[-1]
            if method is not None and wanted and method != wanted:
                raise ValueError(f"checkpoint {path} was written by {method}, not {wanted}, the config's model")

        def before_fit(self) -> None:
            """A lab run waiting for labels resumes from its saved state when no checkpoint is given."""
            from .rewards import LabOracle

            oracle = getattr(self.model, "oracle", None)
            config = self.config_init[self.subcommand]
            if isinstance(oracle, LabOracle) and not config.get("ckpt_path") and oracle.checkpoint.is_file():
                config["ckpt_path"] = str(oracle.checkpoint)
                print(f"resuming the lab run from {oracle.checkpoint}", file=sys.stderr)

    RewardsdeCLI(
        L.LightningModule,
        L.LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        parser_kwargs={"parser_mode": "omegaconf+"},
        args=args,
    )


def _seiko(args: list[str]) -> int:
    """``rewardsde seiko import-labels DIRECTORY LABELS.csv [MORE.csv ...]``: store a lab's answers."""
    import argparse

    parser = argparse.ArgumentParser(prog="rewardsde seiko", description="SEIKO with a lab in the loop")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("import-labels", help="store a lab's labels (CSV: id,label) for a waiting run")
    command.add_argument("directory", help="the run's lab directory (the LabOracle's directory)")
    command.add_argument("labels", nargs="+", help="CSV files with the columns id and label (a number or 'failed')")
    options = parser.parse_args(args)
    from .rewards import import_labels

    try:
        print(import_labels(options.directory, *options.labels))
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _config_path(names: list[str]) -> int:
    """``rewardsde config-path [NAME]``: print a packaged config's path, or every name."""
    if not names:
        print("\n".join(config_names()))
        return 0
    try:
        print("\n".join(str(config_path(name)) for name in names))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _one_line_report(error: BaseException, args: list[str]) -> str:
    """``error: <message>``, where it was raised, and how to see the traceback."""
    root = _root_cause(error)
    message = " ".join(str(root).split()) or type(root).__name__
    building = any(frame.name == "instantiate_classes" for frame in traceback.extract_tb(error.__traceback__))
    stage = "while building" if building else f"during {args[0] if args else 'the run'}, in"
    where = _raising_class(root.__traceback__, building)
    configs = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--config"]
    configs += [arg.split("=", 1)[1] for arg in args if arg.startswith("--config=")]
    source = f" from {', '.join(configs)}" if configs else ""
    overrides = [arg for arg in args[1:] if arg.startswith("--") and not arg.startswith("--config")]
    given = f" with {' '.join(overrides)}" if overrides else ""
    return (
        f"error: {message}\n"
        f"  {stage} {where or 'the config'}{source}{given}\n"
        f"  (add {DEBUG_FLAG} or set {DEBUG_ENV}=1 for the traceback)"
    )


def _root_cause(error: BaseException) -> BaseException:
    """The innermost of our errors in the chain (jsonargparse wraps ours in its own ``ValueError``)."""
    found = error
    seen = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, USER_ERRORS):
            found = current
        current = current.__cause__ or current.__context__
    return found


def _raising_class(tb: TracebackType | None, building: bool) -> str | None:
    """Where ``tb`` was raised: while building, the outermost object whose ``__init__`` it
    passed through (the one the config asked for); otherwise the innermost method of an
    object that is not Lightning's, jsonargparse's or torch's, as ``Class.method``."""
    found = None
    while tb is not None:
        frame = tb.tb_frame
        instance = frame.f_locals.get("self")
        cls = type(instance)
        if instance is not None and cls.__module__.split(".")[0] not in FRAMEWORKS:
            if building and frame.f_code.co_name == "__init__":
                return f"{cls.__module__}.{cls.__qualname__}"
            if not building:
                found = f"{cls.__module__}.{cls.__qualname__}.{frame.f_code.co_name}"
        tb = tb.tb_next
    return found

if __name__ == "__main__":
    main()
