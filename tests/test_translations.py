"""Every user-facing string ships in Finnish: a string left untranslated fails here.

For the project root (templates/, helpdesk/) and every app, `makemessages -l fi` runs on a copy of the
sources; any msgid without a Finnish msgstr (or marked fuzzy) is reported with where it comes from.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = sorted(settings.LOCAL_APPS)
IGNORE = ["locale/*", "migrations/*", "static/vendor/*", "*.min.js", "node_modules/*"]


def _untranslated(source_dirs: list[Path], catalogue: Path, tmp_path: Path) -> list[str]:
    work = tmp_path / "src"
    work.mkdir()
    for src in source_dirs:
        shutil.copytree(src, work / src.name, ignore=shutil.ignore_patterns("locale", "__pycache__", "*.mo"))
    (work / "locale" / "fi" / "LC_MESSAGES").mkdir(parents=True)
    for domain in ("django", "djangojs"):
        existing = catalogue.parent / f"{domain}.po"
        if existing.exists():
            shutil.copy(existing, work / "locale" / "fi" / "LC_MESSAGES" / f"{domain}.po")
    base = [sys.executable, "-m", "django", "makemessages", "-l", "fi", "--no-obsolete", "--settings", "helpdesk.settings"]
    ignores = [arg for pattern in IGNORE for arg in ("-i", pattern)]
    env_path = {"PYTHONPATH": str(ROOT)}
    import os

    env = {**os.environ, **env_path}
    subprocess.run([*base, *ignores], cwd=work, check=True, capture_output=True, env=env)
    if any(p.suffix == ".js" for d in source_dirs for p in d.rglob("*.js") if "vendor" not in p.parts):
        subprocess.run([*base, "-d", "djangojs", *ignores], cwd=work, check=True, capture_output=True, env=env)
    missing = []
    for domain in ("django", "djangojs"):
        po_path = work / "locale" / "fi" / "LC_MESSAGES" / f"{domain}.po"
        if not po_path.exists():
            continue
        for entry in polib.pofile(str(po_path)):
            if entry.obsolete:
                continue
            untranslated = not entry.translated() or "fuzzy" in entry.flags
            if untranslated:
                where = ", ".join(f"{f}:{n}" for f, n in entry.occurrences[:2])
                missing.append(f"{entry.msgid!r} ({where})")
    return missing


@pytest.mark.parametrize("app", APPS)
def test_app_strings_are_translated_to_finnish(app, tmp_path):
    missing = _untranslated([ROOT / app], ROOT / app / "locale" / "fi" / "LC_MESSAGES" / "django.po", tmp_path)
    assert not missing, f"{len(missing)} untranslated Finnish strings in {app}/locale/fi: " + "; ".join(missing[:20])


def test_project_templates_are_translated_to_finnish(tmp_path):
    missing = _untranslated([ROOT / "templates", ROOT / "helpdesk"], ROOT / "locale" / "fi" / "LC_MESSAGES" / "django.po", tmp_path)
    assert not missing, f"{len(missing)} untranslated Finnish strings in locale/fi: " + "; ".join(missing[:20])
