"""The gettext catalogues: every string of the code is in them, translated, with its placeholders and real plurals."""

from __future__ import annotations

import ast
import re
import runpy
import shutil
import subprocess
import sys
import zipfile

import pytest
from babel.messages.pofile import read_po

from agent.i18n import KIOSK_LANGUAGES, catalogue_path, translate, translate_plural, translations
from rules.logbooks import LOGBOOKS

from .conftest import REPO

# What the visitor tablet draws: its module, its templates (not the farmer's poster) and the 48-hour
# question, which is the visitors record's own label.
KIOSK_SOURCES = ("webui/kiosk.py", "webui/templates/kiosk/_layout.html", "webui/templates/kiosk/index.html",
                 "webui/templates/kiosk/thanks.html", "webui/templates/kiosk/departure.html")
KIOSK_RECORD_LABELS = (LOGBOOKS["visitors"].label("poultry_contact_48h"),)
# "controle(s)", "bezoek(en)", "lokdoos/lokdozen"-style shortcuts: a plural must come from ngettext.
BRACKET_PLURAL = re.compile(r"[^\W\d_]\((s|en|es|ren)\)|\blokdoos/lokdozen\b")
TEMPLATE_CODE = re.compile(r"{{.*?}}|{%.*?%}", re.S)
PLACEHOLDER = re.compile(r"{(\w*)}")


def _catalogue(lang: str):
    with catalogue_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang)


def _key(message) -> tuple:
    return message.context, message.id


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """Return the template ./dev messages would extract from the code and templates now."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    runpy.run_path(str(REPO / "tools" / "messages.py"))["extract"](pot)
    with pot.open("rb") as fh:
        return read_po(fh)


@pytest.mark.parametrize("lang", [code for code in KIOSK_LANGUAGES if code != "nl"])
def test_every_catalogue_holds_exactly_the_strings_of_the_code(extracted, lang):
    wanted = {_key(m) for m in extracted if m.id}
    held = {_key(m) for m in _catalogue(lang) if m.id}
    assert wanted - held == set(), "new strings: run ./dev messages and translate them"
    assert held - wanted == set(), "strings no longer in the code: run ./dev messages"


def test_every_msgid_has_its_english():
    missing = [m.id for m in _catalogue("en") if m.id and (m.fuzzy or not all(
        m.string if isinstance(m.string, tuple) else (m.string,)))]
    assert missing == []


def test_every_kiosk_text_exists_in_four_languages(extracted):
    kiosk = {m.id for m in extracted if any(path in KIOSK_SOURCES for path, _line in m.locations)}
    kiosk |= set(KIOSK_RECORD_LABELS)
    assert len(kiosk) > 25  # the form, its messages, the thank-you screen
    for lang in [code for code in KIOSK_LANGUAGES if code != "nl"]:
        translated = {m.id: m.string for m in _catalogue(lang) if m.id and not m.fuzzy}
        assert [k for k in sorted(kiosk) if not translated.get(k)] == [], lang
    assert translate("de", KIOSK_RECORD_LABELS[0]).startswith("Waren Sie in den letzten 48 Stunden")
    assert translate("pl", "Welkom. Meld u aan als bezoeker.") == "Witamy. Prosimy zarejestrować się jako gość."


@pytest.mark.parametrize("lang", ["en", "de", "pl"])
def test_translations_keep_the_placeholders(lang):
    for m in _catalogue(lang):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = [s for s in (m.string if isinstance(m.string, tuple) else (m.string,)) if s]
        wanted = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        for s in strings:
            found = set(PLACEHOLDER.findall(s))
            # A plural form may leave out the count ("one time"), never another value.
            assert found <= wanted and wanted - {"n"} <= found, (lang, m.id, s)


def _source_strings():
    """Yield (where, text) for every string literal in the code and every text in the templates."""
    for top in ("agent", "rules", "webui", "sensors"):
        for path in sorted((REPO / top).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                          if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef)) and n.body
                          and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                    yield f"{path.relative_to(REPO)}:{node.lineno}", node.value
    for path in sorted((REPO / "webui" / "templates").rglob("*.html")):
        # Template code ({{ status_word(s) }}) is not text; the strings inside it are in the catalogues.
        yield str(path.relative_to(REPO)), TEMPLATE_CODE.sub("", path.read_text(encoding="utf-8"))


def test_no_text_is_marked_inside_an_f_string():
    """pybabel does not look into f-strings: a `_("…")` there never reaches the catalogues (English stays Dutch).

    A marker of a variable (`_(STATUS_WORDS[s])`) is fine: its msgids are marked where the table is written.
    """
    markers = {"_", "gettext", "ngettext", "pgettext", "npgettext", "N_", "Nn_", "dutch_ngettext"}
    found = []
    for top in ("agent", "rules", "webui", "sensors"):
        for path in sorted((REPO / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.JoinedStr):
                    found += [f"{path.relative_to(REPO)}:{call.lineno}" for call in ast.walk(node)
                              if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)
                              and call.func.id in markers and call.args and isinstance(call.args[0], ast.Constant)]
    assert found == []


def test_no_plural_is_written_as_s_or_en_in_brackets():
    found = [f"{where}: {BRACKET_PLURAL.search(text).group(0)}" for where, text in _source_strings()
             if BRACKET_PLURAL.search(text)]
    for lang in ("en", "de", "pl"):
        for m in _catalogue(lang):
            for text in (m.string if isinstance(m.string, tuple) else (m.string,)):
                if text and BRACKET_PLURAL.search(text):
                    found.append(f"{lang}: {text}")
    assert found == []


def test_plurals_follow_each_languages_rule():
    assert [translate_plural("nl", "{n} regel", "{n} regels", n) for n in (1, 2)] == ["1 regel", "2 regels"]
    assert [translate_plural("en", "{n} regel", "{n} regels", n) for n in (1, 2)] == ["1 rule", "2 rules"]
    polish = translations("pl")  # three forms: 1, 2–4 (not 12–14), 5+
    assert polish.ngettext("a", "b", 1) == "a" and polish.plural(2) == 1 and polish.plural(5) == 2
    assert polish.plural(12) == 2 and polish.plural(22) == 1


def test_a_wheel_carries_the_catalogues(tmp_path):
    source = tmp_path / "src"  # a copy: building leaves build/ and *.egg-info behind
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for top in ("agent", "rules", "sensors", "webui"):
        shutil.copytree(REPO / top, source / top, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(source)], check=True, capture_output=True, timeout=240)
    [wheel] = tmp_path.glob("ikb_agent-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for lang in ("en", "de", "pl"):
        assert f"agent/translations/{lang}/LC_MESSAGES/messages.po" in names
