"""An installed kana-server (a wheel, as the Dockerfile installs it) carries its migrations and can
migrate a database: nothing it needs at run time lives only in the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parent.parent.parent
MIGRATIONS = ROOT / "kana_server" / "store" / "migrations"


def test_the_wheel_carries_the_migrations_and_migrates_a_database(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "kana_server", source / "kana_server", ignore=shutil.ignore_patterns("__pycache__")
    )
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("kana_server-*.whl")
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(installed)
    shipped = {
        path.relative_to(ROOT).as_posix()
        for path in MIGRATIONS.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert shipped <= names, shipped - names

    env = {k: v for k, v in os.environ.items() if not k.startswith("KANA_")} | {"PYTHONPATH": str(installed)}
    where = subprocess.run(
        [sys.executable, "-c", "import kana_server; print(kana_server.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
    )
    assert where.stdout.strip() == str(installed / "kana_server" / "__init__.py")
    url = f"sqlite+aiosqlite:///{tmp_path / 'kana.db'}"
    migrated = subprocess.run(
        [sys.executable, "-m", "kana_server", "migrate", "--database", url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "migrated from none" in migrated.stdout
