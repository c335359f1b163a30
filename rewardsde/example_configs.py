"""The example configs that ship with the package, and the command that pretrains a missing model.

The YAML files of the repository's ``configs/`` folder install as the data of the
``rewardsde.configs`` package, so a pip user can run them:

    rewardsde fit --config $(rewardsde config-path elegant_gaussian)
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path, PurePath

OUTPUT_DIR = re.compile(r"^\s*output_dir:\s*(\S+)\s*$", re.MULTILINE)


def config_directory() -> Path:
    """The folder that holds the packaged ``*.yaml`` configs."""
    return Path(str(files("rewardsde.configs")))


def config_names() -> list[str]:
    """Names of the packaged configs (file names without ``.yaml``), sorted."""
    return sorted(path.stem for path in config_directory().glob("*.yaml"))


def config_path(name: str) -> Path:
    """The path of the packaged config ``name`` (with or without ``.yaml``).

    Raises:
        ValueError: when no packaged config has that name; the message lists them.
    """
    stem = name[:-5] if name.endswith(".yaml") else name
    path = config_directory() / f"{stem}.yaml"
    if not path.is_file():
        raise ValueError(f"no packaged config named {name!r}; choose one of {', '.join(config_names())}")
    return path


def pretrain_command(directory: str | PurePath) -> str | None:
    """The command that writes the pretrained model ``directory``, or ``None`` if no config does.

    A pretraining config writes its model to ``output_dir``; the one whose
    ``output_dir`` is ``directory`` or a trailing part of it (``pretrained/digits``
    matches ``/any/where/pretrained/digits``) is named.
    """
    wanted = PurePath(directory).parts
    for name in config_names():
        match = OUTPUT_DIR.search((config_directory() / f"{name}.yaml").read_text())
        if match is None:
            continue
        written = PurePath(match.group(1)).parts
        if written and wanted[-len(written):] == written:
            return f"rewardsde fit --config configs/{name}.yaml"
    return None


def missing_model_hint(directory: str | PurePath) -> str:
    """``"; create it with: <command>"`` for a missing pretrained ``directory``, or a generic hint."""
    command = pretrain_command(directory)
    if command is None:
        return "; pretrain one first or point the config at an existing one"
    return f"; create it with: {command}"
