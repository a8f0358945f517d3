"""./trellis accepts Python 3.11 and 3.12 and refuses others, before making a virtualenv.

The interpreters are stand-ins that report a version and record what they were asked to
do, so the test needs neither Python installed nor a network.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

STAND_IN = """#!/bin/sh
if [ "$1" = "-c" ]; then
  exec {real} -c "import sys; sys.version_info = {version!r}; exec(sys.argv[1])" "$2"
fi
echo "$@" >> {log}
exit 3
"""


def stand_in(tmp_path: Path, version: tuple) -> tuple[Path, Path]:
    log = tmp_path / f"calls-{version[1]}.txt"
    script = STAND_IN.format(real=sys.executable, version=version, log=log)
    path = tmp_path / f"python{version[0]}.{version[1]}"
    path.write_text(script)
    path.chmod(0o755)
    return path, log


def trellis(tmp_path: Path, python: Path):
    env = {**os.environ, "PYTHON": str(python), "TRELLIS_VENV": str(tmp_path / "venv")}
    return subprocess.run(
        [str(Path(settings.BASE_DIR) / "trellis"), "manage", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("minor", [11, 12])
def test_a_supported_python_makes_the_virtualenv(tmp_path, minor):
    python, log = stand_in(tmp_path, (3, minor, 1, "final", 0))

    result = trellis(tmp_path, python)

    assert f"creating {tmp_path / 'venv'} with {python}" in result.stderr
    assert log.read_text().split() == ["-m", "venv", str(tmp_path / "venv")]
    assert result.returncode != 0  # the stand-in makes no virtualenv


@pytest.mark.parametrize("minor", [10, 13])
def test_another_python_is_refused_before_anything_is_made(tmp_path, minor):
    python, log = stand_in(tmp_path, (3, minor, 0, "final", 0))

    result = trellis(tmp_path, python)

    assert result.returncode == 1
    assert "is not Python 3.11 or 3.12" in result.stderr
    assert not log.exists() and not (tmp_path / "venv").exists()
