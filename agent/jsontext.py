"""Strict JSON for input from people and programs (API bodies, ``--json`` options): refuse what is no data.

Python's ``json`` takes ``NaN``, ``Infinity`` and ``1e309`` (as infinity), integers of any length, and
nesting until the interpreter's recursion limit breaks (RecursionError, not ValueError: a 500 or a
traceback). :func:`loads` refuses each with a :class:`JsonInputError` (a ValueError) saying which, so every
caller answers with its usual "not valid JSON" message. Sensor payloads have their own, lenient rules
(``sensors/decode.py``): a device's ``nan`` is a counted rejection, not an error.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # no record, query or entry nests deeper; a guard far below the recursion limit
INT_LIMIT = 2**63  # SQLite's integers are 64-bit

# Dutch first, English after: one place, to move into the catalogue.
MESSAGES = {
    "constant": ("{what} is geen getal", "{what} is not a number"),
    "float": ("getal {what} is te groot", "number {what} is too large"),
    "int": ("geheel getal van {n} cijfers is te groot", "integer of {n} digits is too large"),
    "depth": ("JSON is dieper genest dan {n} niveaus", "JSON nests deeper than {n} levels"),
}


class JsonInputError(ValueError):
    """The text is not JSON this program accepts; the message says why (Dutch / English)."""

    def __init__(self, key: str, **values):
        nl, en = MESSAGES[key]
        self.nl, self.en = nl.format(**values), en.format(**values)
        super().__init__(f"{self.nl} ({self.en})")


def _constant(name: str):
    raise JsonInputError("constant", what=name)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JsonInputError("float", what=text[:24])
    return value


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    value = int(text) if digits <= 20 else INT_LIMIT
    if not -INT_LIMIT <= value < INT_LIMIT:
        raise JsonInputError("int", n=digits)
    return value


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Return the value of a JSON text; raise JsonInputError (a ValueError) for what :mod:`json` lets through."""
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except RecursionError:
        raise JsonInputError("depth", n=max_depth) from None
    if _too_deep(value, max_depth):
        raise JsonInputError("depth", n=max_depth)
    return value


def _too_deep(value: Any, max_depth: int) -> bool:
    """Return whether containers nest deeper than max_depth (iteratively: no recursion of our own)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False
