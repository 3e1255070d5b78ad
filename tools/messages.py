"""Extract the interface strings and update the gettext catalogues: ``./dev messages``.

Where the strings are is ``babel.cfg``; which calls mark them is :data:`KEYWORDS` (beyond pybabel's
defaults ``_``, ``gettext``, ``ngettext``, ``pgettext``, ``npgettext``, ``N_`` …). The template is written
to a temporary file only: the ``.po`` files are what is kept (no line numbers, sorted, unwrapped, so
merges stay small). New msgids arrive untranslated — translate them in each ``.po``; removed ones are
dropped. tests/test_translations.py runs the same extraction and fails while a catalogue lags behind.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

REPO = Path(__file__).resolve().parent.parent
CATALOGUES = REPO / "agent" / "translations"
KEYWORDS = ("lazy_gettext", "lazy_ngettext:1,2", "dutch_ngettext:1,2", "Nn_:1,2", "translate:2",
            "translate_plural:2,3")


def extract(pot: Path) -> None:
    """Write every marked string of the code and templates to a template file."""
    args = ["pybabel", "-q", "extract", "-F", str(REPO / "babel.cfg"), "--add-location=file", "--sort-output",
            "--no-wrap", "--project=ikb-agent", "-o", str(pot)]
    for keyword in KEYWORDS:
        args += ["-k", keyword]
    here = Path.cwd()
    os.chdir(REPO)  # locations relative to the repository: "webui/kiosk.py", the same on every machine
    try:
        CommandLineInterface().run([*args, "."])
    finally:
        os.chdir(here)


def update(pot: Path) -> None:
    """Bring every language's catalogue in line with the template (new msgids empty, removed ones gone)."""
    CommandLineInterface().run(["pybabel", "-q", "update", "-i", str(pot), "-d", str(CATALOGUES), "--no-wrap",
                                "--ignore-obsolete", "--no-fuzzy-matching", "--ignore-pot-creation-date"])


def main() -> int:
    """Extract, then update the catalogues."""
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        extract(pot)
        update(pot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
