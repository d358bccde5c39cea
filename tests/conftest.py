"""Shared fixtures: the default kit, built once per session, and throw-away projects."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import ROOT, copy_project
from pamphleteer.config import load_project
from pamphleteer.pipeline import Job, Output, build


@dataclass
class Kit:
    out_dir: Path
    outputs: dict[str, Output]  # by file name, as build() reported them

    def pdf(self, name: str) -> Path:
        """The path of an output, failing with the build's own error if it was not built."""
        output = self.outputs.get(name)
        assert output is not None, (
            f"{name} was not built at all (built: {', '.join(sorted(self.outputs))})"
        )
        assert output.error is None, f"{name} failed to build: {output.error}"
        path = self.out_dir / name
        assert path.is_file(), f"{name} reported built but {path} does not exist"
        return path


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Builds in tests keep their caches (copyfit results, fontconfig) to themselves."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if previous is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture(scope="session")
def kit(tmp_path_factory) -> Kit:
    """The repository's default kit (every layout, size and variant), built once."""
    project = load_project(ROOT)
    out_dir = tmp_path_factory.mktemp("kit")
    outputs = build(Job(project=project, content_dir=project.content_dir, out_dir=out_dir))
    return Kit(out_dir, {o.target.file: o for o in outputs})


@pytest.fixture(scope="session")
def project_dir(tmp_path_factory) -> Path:
    """A copy of the repository's project (config, layouts, fonts) that tests must not edit;
    give it a content folder of your own with --content."""
    return copy_project(tmp_path_factory.mktemp("project") / "proj")


@pytest.fixture(scope="session")
def system_font_families() -> set[str]:
    """Families installed on this machine (fontconfig), which must never reach a PDF."""
    try:
        # Without the FONTCONFIG_FILE pamphleteer sets for its own process (which lists
        # only fonts/): this asks what the machine itself has installed.
        env = {k: v for k, v in os.environ.items() if not k.startswith("FONTCONFIG")}
        listed = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True,
                                check=True, timeout=60, env=env).stdout
    except (OSError, subprocess.SubprocessError):
        listed = ""
    families = {name.strip() for line in listed.splitlines() for name in line.split(",")}
    # Families common on Linux machines, in case fontconfig is not there to ask.
    return {f for f in families if f} | {"DejaVu Sans", "DejaVu Serif", "Liberation Sans",
                                         "Liberation Serif", "Noto Sans", "Noto Serif"}
