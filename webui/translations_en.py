"""English for the interface strings (Dutch is the source language; see webui/i18n.py)."""

EN: dict[str, str] = {
}
