"""setuptools hook: every build (wheel, sdist, editable) carries the web UI's vendor files."""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_assets import ensure_vendor_assets


class BuildPy(build_py):
    def run(self) -> None:
        ensure_vendor_assets()
        super().run()


class Sdist(sdist):
    def run(self) -> None:
        ensure_vendor_assets()
        super().run()


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
