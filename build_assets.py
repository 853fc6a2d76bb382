"""The web UI's third-party browser files, copied from npm into the package.

uPlot comes from npm, pinned by package-lock.json, and lives in src/dbsnooze/web/static/vendor/
(not in git). `make setup` runs this file, and setup.py runs it before every build, so an
editable install, an sdist and a wheel all carry the files. npm is needed only when they are
missing or older than package-lock.json. The browser tests' own files (axe-core, a
devDependency) are checked too when run from a source tree (`make setup`), so a fresh clone's
`make test` has them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENDOR = Path("src/dbsnooze/web/static/vendor")
NPM_LOCK = "package-lock.json"
# file served by the app -> where npm puts it, under node_modules/
FILES = {
    "uPlot.iife.min.js": "uplot/dist/uPlot.iife.min.js",
    "uPlot.min.css": "uplot/dist/uPlot.min.css",
    "uPlot.LICENSE": "uplot/LICENSE",
}
# files the browser tests read from node_modules/ (never shipped)
TEST_FILES = ("axe-core/axe.min.js",)


class AssetsUnavailable(RuntimeError):
    """The vendor files are missing and npm cannot fetch them."""


def ensure_vendor_assets(root: Path = ROOT) -> list[Path]:
    """The vendor files under root, fetched with `npm ci` and copied when missing or stale."""
    lock = root / NPM_LOCK
    targets = [root / VENDOR / name for name in FILES]
    if all(_newer(target, lock) for target in targets):
        return targets
    modules = root / "node_modules"
    sources = [modules / source for source in FILES.values()]
    if not all(_newer(source, lock) for source in sources):
        _npm_ci(root)
    (root / VENDOR).mkdir(parents=True, exist_ok=True)
    for source, target in zip(sources, targets, strict=True):
        shutil.copyfile(source, target)
    return targets


def ensure_test_assets(root: Path = ROOT) -> list[Path]:
    """The browser tests' files under node_modules/, fetched with `npm ci` when missing or stale."""
    sources = [root / "node_modules" / name for name in TEST_FILES]
    if not all(_newer(source, root / NPM_LOCK) for source in sources):
        _npm_ci(root)
    return sources


def _newer(path: Path, than: Path) -> bool:
    if not path.is_file():
        return False
    return not than.is_file() or path.stat().st_mtime >= than.stat().st_mtime


def _npm_ci(root: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsUnavailable(
            f"the web UI's files ({', '.join(FILES)}) are not in {VENDOR} and npm is not on "
            "PATH: install Node.js 20 with npm, or build from a tree that has them"
        )
    command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        subprocess.run(command, cwd=root, check=True, stdout=sys.stderr)
    except subprocess.CalledProcessError as exc:
        raise AssetsUnavailable(f"`npm ci` failed (exit {exc.returncode}); see above") from None
    # npm leaves the files with their published mtimes: mark them as fetched now
    for source in (*FILES.values(), *TEST_FILES):
        (root / "node_modules" / source).touch()


if __name__ == "__main__":
    try:
        ensure_vendor_assets()
        ensure_test_assets()
    except AssetsUnavailable as exc:
        sys.exit(f"error: {exc}")
