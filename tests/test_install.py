"""What `pip install` puts in an environment besides the package: the man pages, where man finds
them from PATH alone (man-db looks beside each PATH folder for ../share/man), so `man vcctl`
works in a venv whose bin/ is on PATH, with no MANPATH set."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "vcctl", "man")


def _require(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is not installed, and CI must run this test (install it)")
        pytest.skip(f"{tool} is not installed")
    return found


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with vcctl's wheel installed by pip (built from a copy of the checkout, so
    the build leaves nothing in it)."""
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy(path, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(tmp / "dist"), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp / "dist").glob("vcctl-*.whl")
    target = tmp / "venv"
    # A venv without pip of its own (quicker to make); this pip installs into it as its own would.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(target)], check=True, timeout=120
    )
    subprocess.run(
        [*pip, "--python", str(target / "bin" / "python"), "install", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target


def _man(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
        "HOME": str(venv.parent),
        "LANG": "C.UTF-8",
        "MANPAGER": "cat",
        "PAGER": "cat",
        "MANWIDTH": "100",
    }
    return subprocess.run(
        [_require("man"), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_pip_install_puts_every_man_page_in_the_environments_man1(venv: Path) -> None:
    installed = sorted(path.name for path in (venv / "share/man/man1").glob("*.1"))
    assert installed == sorted(path.name for path in (ROOT / "man").glob("*.1"))
    assert (venv / "share/man/man1/vcctl.1").read_bytes() == (ROOT / "man/vcctl.1").read_bytes()


def test_man_vcctl_finds_the_installed_pages_from_path_alone(venv: Path) -> None:
    where = _man(venv, "-w", "vcctl-rooms-create")
    assert where.returncode == 0, where
    assert where.stdout.strip() == str(venv / "share/man/man1/vcctl-rooms-create.1")
    page = _man(venv, "vcctl")
    assert page.returncode == 0, page
    assert "vcctl rooms create" in page.stdout
    assert "SYNOPSIS" in page.stdout
