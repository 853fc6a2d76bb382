"""What installs and ships: lock files that pin by hash and name no index, a wheel with the UI."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ("requirements.lock", "requirements-dev.lock")
# `name==version [; marker] \` and the hashes on the lines below
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)( ; [^\\]+)? \\$")
BUILD_INPUTS = (
    "pyproject.toml",
    "setup.py",
    "build_assets.py",
    "MANIFEST.in",
    "README.md",
    "package.json",
    "package-lock.json",
)


def _build_assets() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_assets", ROOT / "build_assets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lock: str) -> dict[str, str]:
    lines = (ROOT / lock).read_text().splitlines()
    return {_normal(m[1]): m[2] for line in lines if (m := PIN.match(line))}


def _requirement_names(requirements: list[str]) -> set[str]:
    return {_normal(re.split(r"[\[<>=!~;\s]", req, maxsplit=1)[0]) for req in requirements}


@pytest.mark.parametrize("lock", LOCKS)
def test_lock_files_pin_every_package_by_hash_and_name_no_index(lock: str) -> None:
    text = (ROOT / lock).read_text()

    assert "://" not in text
    assert not re.search(r"^\s*(-i|--index-url|--extra-index-url|--find-links|-f)\b", text, re.M)
    requirements = [line for line in text.splitlines() if line and not line[0].isspace()]
    requirements = [line for line in requirements if not line.startswith("#")]
    assert requirements
    assert all(PIN.match(line) for line in requirements), requirements
    indented = [line.strip() for line in text.splitlines() if line[:1].isspace()]
    assert all(re.fullmatch(r"--hash=sha256:[0-9a-f]{64}( \\)?|#.*", line) for line in indented)
    assert text.count("--hash=sha256:") >= len(requirements)


def test_the_locks_cover_pyproject_and_agree() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")

    assert _requirement_names(project["dependencies"]) <= set(runtime), "run `make lock`"
    assert _requirement_names(extras["dev"] + extras["demo"]) <= set(dev), "run `make lock`"
    assert {name: dev[name] for name in runtime} == runtime


def _clean_tree(into: Path) -> Path:
    """The project's sources as a fresh clone has them: no vendor files, no node_modules."""
    tree = into / "tree"
    tree.mkdir()
    for name in BUILD_INPUTS:
        shutil.copy2(ROOT / name, tree / name)
    ignore = shutil.ignore_patterns("vendor", "__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", tree / "src", ignore=ignore)
    return tree


def _registry_reachable() -> dict[str, str]:
    """The environment without the suite's dead proxy (conftest.py): the build fetches its
    build requirements from the package index, the one place beyond loopback a test may reach."""
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    return {name: value for name, value in os.environ.items() if name.lower() not in proxies}


def test_a_wheel_built_from_a_clean_tree_carries_the_ui_files(tmp_path: Path) -> None:
    tree = _clean_tree(tmp_path)
    out = tmp_path / "dist"

    built = subprocess.run(
        [sys.executable, "-m", "uv", "build", "--quiet", "--out-dir", str(out), str(tree)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_registry_reachable(),
    )

    assert built.returncode == 0, built.stderr[-3000:]
    vendor = [f"dbsnooze/web/static/vendor/{name}" for name in _build_assets().FILES]
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert set(vendor) <= names
        assert b"uPlot" in archive.read("dbsnooze/web/static/vendor/uPlot.iife.min.js")
        assert "dbsnooze/web/templates/instance.html" in names
    (sdist,) = out.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {f"src/{path}" for path in vendor} <= members
    assert {"build_assets.py", "package.json", "package-lock.json"} <= members


def test_missing_ui_files_without_npm_fail_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_assets = _build_assets()
    shutil.copy2(ROOT / "package-lock.json", tmp_path / "package-lock.json")
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))

    with pytest.raises(build_assets.AssetsUnavailable, match="npm is not on PATH"):
        build_assets.ensure_vendor_assets(tmp_path)


def test_present_ui_files_need_no_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_assets = _build_assets()
    vendor = tmp_path / build_assets.VENDOR
    vendor.mkdir(parents=True)
    for name in build_assets.FILES:
        (vendor / name).write_text("/* fetched earlier */")
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))

    assert build_assets.ensure_vendor_assets(tmp_path) == [vendor / n for n in build_assets.FILES]
