"""Build ``rules/catalogue.json`` from the IKB Ei seed table.

Run it from the repository root when the seed changes::

    python -m rules.catalogue_build ../shared/seeds/004_09b9fb4dd29fc2de.txt

The seed is a tab-separated export of the five annexes (1.2A, 1.2E, 1.2G, 1.2H,
1.2I). Annexes A and E have 8 columns, G, H and I have 9 (an extra "niet
gecontroleerd" column after NVT). Header rows ("Nr.") repeat inside an annex,
section rows ("A3." + "INRICHTING") carry no texts, and a few ids are damaged
(``1.5``, ``I.6``, ``11.7``, ``11.8`` in the organic annex) or carry a trailing
dot (``A4.5.4.``, ``E4.1.``). Deviation, NVT and NG texts are copied byte for
byte; only the voorschrift and its interpretation are turned from HTML into
plain text.
"""

from __future__ import annotations

import html
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

from rules.catalogue import ANNEX_HOUSING, EVALUATION, normalise_rule_id

WEIGHTS = ("B", "C", "D", "KO")


class _TextExtractor(HTMLParser):
    """Collect the text of an HTML fragment; list items become '; '-free lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("p", "li", "br", "ul", "ol"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "li", "ul", "ol"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(cell: str) -> str | None:
    """Return the plain text of an HTML cell, paragraphs on their own lines."""
    if not cell.strip():
        return None
    if "<" not in cell or not re.search(r"</?[a-zA-Z][^>]*>", cell):
        return html.unescape(cell).strip()
    parser = _TextExtractor()
    parser.feed(cell)
    parser.close()
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in "".join(parser.parts).split("\n")]
    return "\n".join(line for line in lines if line)


def _exact(cell: str) -> str | None:
    """Return the cell exactly as in the seed, or None when it is empty."""
    return cell if cell.strip() else None


def parse_seed(text: str) -> list[dict]:
    """Parse the seed table into catalogue entries, in seed order."""
    rules: list[dict] = []
    annex: str | None = None
    section: str | None = None
    section_title: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        annex_match = re.match(r"BI[J]?LAGE (1\.2[A-Z]):", line)
        if annex_match:
            annex = annex_match.group(1)
            continue
        cells = line.split("\t")
        if len(cells) < 8 or cells[0] == "Nr.":
            continue
        if annex is None:
            raise ValueError(f"line {lineno}: rule row before any annex heading")
        if len(cells) == 8:
            cells.insert(4, "")  # annexes A and E have no "niet gecontroleerd" column
        if len(cells) != 9:
            raise ValueError(f"line {lineno}: expected 8 or 9 columns, got {len(cells)}")
        raw_id, title, interpretation, nvt, ng, b, c, d, ko = cells
        if not any(cells[2:]):
            # Section row: "A3." + "INRICHTING", or "H4" followed by a row "HYGIËNE".
            if re.fullmatch(r"[A-Z]\d+\.?", raw_id.strip()):
                section = raw_id.strip().rstrip(".")
                section_title = title.strip() or None
            elif section is not None and section_title is None:
                section_title = raw_id.strip()
            continue
        rule_id = normalise_rule_id(raw_id, annex)
        rules.append(
            {
                "id": rule_id,
                "annex": annex,
                "section": section,
                "section_title": section_title,
                "title": html_to_text(title),
                "interpretation": html_to_text(interpretation),
                "nvt": _exact(nvt),
                "not_checked": _exact(ng),
                "deviations": {w: _exact(v) for w, v in zip(WEIGHTS, (b, c, d, ko))},
                "applies_to": list(ANNEX_HOUSING[annex]),
                "evaluation": EVALUATION.get(rule_id, "self_assessment"),
                "source": {"seed": "004_09b9fb4dd29fc2de.txt", "line": lineno, "raw_id": raw_id},
            }
        )
    ids = [r["id"] for r in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate rule ids after normalisation: {duplicates}")
    unknown = sorted(set(EVALUATION) - set(ids))
    if unknown:
        raise ValueError(f"EVALUATION names rules that are not in the seed: {unknown}")
    return rules


def main(argv: list[str] | None = None) -> int:
    """Regenerate rules/catalogue.json from the seed file given on the command line."""
    argv = sys.argv[1:] if argv is None else argv
    seed = Path(argv[0] if argv else "../shared/seeds/004_09b9fb4dd29fc2de.txt")
    rules = parse_seed(seed.read_text(encoding="utf-8"))
    out = Path(__file__).with_name("catalogue.json")
    out.write_text(json.dumps(rules, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(rules)} rules to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
