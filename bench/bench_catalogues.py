"""Benchmark the gettext catalogues: reading and compiling a .po (once per process), then a lookup.

Run: .venv/bin/python bench/bench_catalogues.py [--rounds 20]
Prints one line per measurement: each language's first load (Babel's read_po and write_mo, in a fresh
cache every round; median and max of the rounds — the first round also imports Babel), a whole CLI
command in Dutch (no catalogue) and in English, and the cost of one translated string on a page
(``translate``: lookup plus ``{name}`` formatting).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from agent.i18n import catalogue_path, translate, translations  # noqa: E402


def main() -> None:
    """Print the measurements."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    for lang in ("en", "de", "pl"):
        times = []
        for _ in range(args.rounds):
            translations.cache_clear()
            start = time.perf_counter()
            translations(lang)
            times.append((time.perf_counter() - start) * 1000)
        size = catalogue_path(lang).stat().st_size // 1024
        print(f"load {lang} ({size} KB .po): median {statistics.median(times):.1f} ms, max {max(times):.1f} ms")
    for lang in ("nl", "en"):  # Dutch reads no catalogue: the difference is what English costs a command
        cli = []
        for _ in range(7):
            start = time.perf_counter()
            subprocess.run([str(Path(sys.executable).with_name("ikb-agent")), "--lang", lang, "logbook", "kinds"],
                           cwd=REPO, check=True, capture_output=True)
            cli.append((time.perf_counter() - start) * 1000)
        print(f"`ikb-agent --lang {lang} logbook kinds` (whole process): median {statistics.median(cli):.0f} ms")
    translations("en")
    n = 100_000
    start = time.perf_counter()
    for i in range(n):
        translate("en", "Opgeslagen: {title} #{id}.", title="Koppelkaart", id=i)
    print(f"translate (lookup + format): {(time.perf_counter() - start) / n * 1e6:.2f} µs per string")


if __name__ == "__main__":
    main()
