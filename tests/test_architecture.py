"""The layout's import rules, read from the code itself (AST, not grep).

- ``rules/`` is pure: nothing of ``agent``, ``sensors``, ``webui``, paho, flask, sqlite3 or any other I/O library.
- ``webui/`` holds no SQL: no sqlite3 or sqlite-utils import, no store internals (only ``agent.store``'s
  public names), no SQL statement in its code.
- SQL has owners: statements appear only in ``agent/store/`` (each table family's queries), the alerts
  package (its own tables) and ingestion's batched insert path.
- Only the CLI package (the composition root) imports ``webui``; ``sensors/`` never imports ``agent`` or ``webui``.
- A package is used through what its ``__init__`` names: no import of another package's submodules or of
  its private names.
- ``run`` and the web page start without the libraries only an export, a signature or a password needs
  (fpdf2, fontTools, Pillow, openpyxl, cryptography; werkzeug in ``run``): on a Raspberry Pi they are
  about 40 MB of memory (docs/PERFORMANCE.md, issue 15: memory).
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CODE = ("agent", "rules", "sensors", "webui")
IO_LIBRARIES = ("paho", "flask", "sqlite3", "sqlite_utils", "apscheduler", "waitress", "requests", "urllib",
                "socket", "http", "smtplib", "subprocess", "openpyxl", "fpdf")
SQL = re.compile(r"^\s*(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX))",
                 re.IGNORECASE)


def _module(path: Path) -> str:
    """Return the dotted module name of a source file."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(top: str):
    """Yield (module, path, tree) for every source file under a top-level folder."""
    for path in sorted((ROOT / top).rglob("*.py")):
        yield _module(path), path, ast.parse(path.read_text(), str(path))


def _imports(tree: ast.AST):
    """Yield (imported module, [names]) for every import statement, including those inside functions."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [a.name for a in node.names]


def _packages() -> set[str]:
    """Return the sub-packages of the code folders (``agent.store``, ``rules.sensor``, ``webui.api``…)."""
    return {_module(p.parent / "__init__.py") for top in CODE for p in (ROOT / top).glob("*/__init__.py")}


def _owner(module: str, packages: set[str]) -> str:
    """Return the package a module belongs to: its sub-package, else its top-level folder."""
    return next((p for p in packages if module == p or module.startswith(p + ".")), module.split(".")[0])


def _violations(top: str, forbidden) -> list[str]:
    """Return 'module: import' for every import under ``top`` that ``forbidden(module, imported)`` refuses."""
    return [f"{mod}: {imported}" for mod, _path, tree in _sources(top) for imported, _names in _imports(tree)
            if forbidden(mod, imported)]


def _root(name: str) -> str:
    return name.split(".")[0]


def test_rules_is_pure():
    refused = {"agent", "sensors", "webui", *IO_LIBRARIES}
    assert _violations("rules", lambda _m, imported: _root(imported) in refused) == []


def test_sensors_never_import_the_agent_or_the_web():
    assert _violations("sensors", lambda _m, imported: _root(imported) in ("agent", "webui", "flask")) == []


def test_only_the_cli_imports_the_web():
    def forbidden(mod, imported):
        return _root(imported) == "webui" and not mod.startswith("agent.cli")
    assert _violations("agent", forbidden) == []
    assert _violations("rules", forbidden) == []
    assert _violations("sensors", forbidden) == []


def test_the_web_imports_no_database_library_and_no_store_internals():
    def forbidden(_mod, imported):
        return _root(imported) in ("sqlite3", "sqlite_utils") or imported.startswith("agent.store.")
    assert _violations("webui", forbidden) == []


def test_the_web_holds_no_sql():
    found = [f"{mod}: {text[:60]!r}" for mod, _path, tree in _sources("webui") for text in _sql_strings(tree)]
    assert found == []


# Where SQL may be written: the store package (every table family), the alerts package (its own tables,
# which nothing else touches) and ingestion's batched insert path (measured in bench/ingest.py).
SQL_OWNERS = ("agent.store", "agent.alerts", "agent.ingest.ingestor")


def _sql_strings(tree: ast.AST) -> list[str]:
    """Return the string constants (f-string parts included) of a module that hold an SQL statement."""
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value)]


def test_sql_has_owners():
    found = [f"{mod}: {text[:60]!r}" for top in CODE for mod, _path, tree in _sources(top)
             if not mod.startswith(SQL_OWNERS) for text in _sql_strings(tree)]
    assert found == []


def test_packages_are_used_through_what_their_init_names():
    packages = _packages()
    problems = []
    for top in CODE:
        for mod, _path, tree in _sources(top):
            mine = _owner(mod, packages)
            for imported, names in _imports(tree):
                if _root(imported) not in CODE:
                    continue
                theirs = _owner(imported, packages)
                if theirs == mine:
                    continue
                if theirs in packages and imported != theirs:
                    problems.append(f"{mod}: imports {imported} (use {theirs})")
                    continue
                for name in names:
                    if name.startswith("_"):
                        problems.append(f"{mod}: imports the private {imported}.{name}")
                    elif theirs in packages:
                        public = getattr(importlib.import_module(theirs), "__all__", ())
                        if name not in public:
                            problems.append(f"{mod}: imports {imported}.{name}, not in its __all__")
    assert problems == []


@pytest.mark.parametrize("package", sorted(_packages()))
def test_every_package_names_its_interface(package):
    module = importlib.import_module(package)
    assert module.__doc__, f"{package} has no docstring saying what it owns"
    assert hasattr(module, "__all__"), f"{package}/__init__.py does not name what others may use (__all__)"


# What a process has loaded once started, in a fresh interpreter (the test process has imported everything).
_LOADED = """
import json, sys
{body}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})))
"""
EXPORT_ONLY = {"fpdf", "fontTools", "PIL", "openpyxl", "cryptography"}
NEVER = {"asyncio", "pydantic_settings"}  # nothing here is asynchronous: asyncio alone was 1.7 MB in each process


def _loaded(body: str, cwd: Path) -> set[str]:
    """Return the top-level modules a fresh interpreter holds after running ``body``."""
    out = subprocess.run([sys.executable, "-c", _LOADED.format(body=body)], cwd=cwd, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_run_starts_without_the_export_libraries(tmp_path):
    loaded = _loaded("import agent.cli.main, agent.cli.runner", tmp_path)
    assert "agent" in loaded and "paho" in loaded
    assert loaded & (EXPORT_ONLY | NEVER | {"werkzeug", "flask"}) == set()


def test_the_web_page_starts_without_the_export_libraries(tmp_path):
    body = f"""
import agent.cli.main
from sensors.simulator import farm_toml
from agent.config import config_from_dict
import tomllib
config = config_from_dict(tomllib.loads(farm_toml(mqtt_port=1883, db_path={str(tmp_path / "farm.db")!r}, web_port=8080)))
from webui import create_app
app = create_app(config, config.storage.path)
from datetime import datetime, timezone
from agent.store import add_user, open_store
add_user(open_store(config.storage.path), "boer", "farmer", "een lang wachtwoord", datetime.now(timezone.utc))
client = app.test_client()
import re
token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
page = client.post("/login", data={{"name": "boer", "password": "een lang wachtwoord", "csrf_token": token}},
                   follow_redirects=True).get_data(as_text=True)
assert "Afwijkingen per categorie" in page, page[:500]
# The dashboard's dates came from webui.cldr: Babel's locale data (about 4 MB, kept for good) was never loaded.
import babel.localedata
assert not babel.localedata._cache, sorted(babel.localedata._cache)
"""
    loaded = _loaded(body, tmp_path)
    assert "flask" in loaded
    assert loaded & (EXPORT_ONLY | NEVER) == set()
