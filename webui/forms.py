"""Every form on the page, generated from its model: the fields to draw, the submitted values, the messages.

One generator for the logbook records (``rules.logbooks``) and the page's own inputs (``webui/inputs.py``):
:func:`rules.logbooks.fields.describe` reads a model's fields — ``field()``'s metadata on a record (label,
widget, options, the rule), else the field's title, description and type — and :func:`fields_for` turns
them into :class:`FieldSpec` rows in the page's language, which ``templates/_form.html`` draws.
:func:`form_data` reads a submitted form back into the JSON object the model validates (as the CLI and
the API send it), and :func:`field_errors` puts an error's problems (:mod:`rules.errors`) at their fields.
Widgets: text, textarea, number, date, time, select, checkbox, list, yesno (two big buttons), house (a
select of the farm's houses), houses (toggle buttons), products (rows of name and admission number);
``hidden`` fields are not drawn and kept as they were; a ``signature`` is typed initials here (the kiosk
draws one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from rules.errors import IkbError, problems_of
from rules.logbooks import describe
from webui.i18n import current_translations, language
from webui.i18n import gettext as _

NON_FIELD = "_form"  # the key of a message about the form as a whole
PRODUCT_ROWS = 3  # rows of the products widget (R&O: cleaning agent, disinfectant, a third)


@dataclass
class FieldSpec:
    """One form field as the template draws it."""

    name: str
    label: str
    widget: str
    required: bool
    choices: list[tuple[str, str]] = field(default_factory=list)
    help: str = ""
    value: Any = None
    error: str | None = None
    max_length: int | None = None
    rule: str | None = None  # the IKB Ei rule that demands the field (logbook forms)


def _shown(widget: str, name: str, exclude: tuple[str, ...], only: tuple[str, ...] | None) -> bool:
    """Return whether a field is on the form."""
    return widget != "hidden" and name not in exclude and (only is None or name in only)


def fields_for(model: type[BaseModel], *, values: dict | None = None, errors: dict | None = None,
               choices: dict[str, list[tuple[str, str]]] | None = None, exclude: tuple[str, ...] = (),
               only: tuple[str, ...] | None = None) -> list[FieldSpec]:
    """Return a model's form fields in the page's language, with values, errors and this form's choices."""
    values, errors, choices = values or {}, errors or {}, choices or {}
    out = []
    for meta in describe(model):
        if not _shown(meta.widget, meta.name, exclude, only):
            continue
        widget = meta.widget
        options = [(value, _(label)) for value, label in (meta.options or {}).items()]
        if meta.name in choices:
            widget, options = ("houses" if widget == "houses" else "select"), choices[meta.name]
        widget = {"house": "select", "signature": "text"}.get(widget, widget)
        value = values.get(meta.name, meta.default)
        if widget == "products":
            value = _product_rows(value)
        out.append(FieldSpec(name=meta.name, label=_(meta.label), widget=widget, required=meta.required,
                             choices=options, help=meta.rule or (_(meta.help) if meta.help else ""), value=value,
                             error=errors.get(meta.name), max_length=meta.max_length, rule=meta.rule))
    return out


def _product_rows(value: Any) -> list[dict]:
    """Return the products as PRODUCT_ROWS rows of {name, admission_number} (empty rows to fill)."""
    rows = [dict(p) for p in value if isinstance(p, dict)] if isinstance(value, list) else []
    return rows + [{"name": "", "admission_number": ""} for _i in range(max(0, PRODUCT_ROWS - len(rows)))]


def form_data(model: type[BaseModel], form: MultiDict, *, only: tuple[str, ...] | None = None) -> dict:
    """Return a submitted form as the JSON object the model validates (empty fields left out, as the CLI would)."""
    data: dict[str, Any] = {}
    for meta in describe(model):
        name, widget = meta.name, meta.widget
        if not _shown(widget, name, (), only):
            continue
        if widget == "houses":
            data[name] = [h.strip() for h in form.getlist(name) if h.strip()]
        elif widget == "list":
            items = form.getlist(name)
            if len(items) == 1:
                items = items[0].split(",")
            data[name] = [i for i in (s.strip() for s in items) if i]
        elif widget == "products":
            rows = [{k: form.get(f"{name}-{i}-{k}", "").strip() for k in ("name", "admission_number")}
                    for i in range(PRODUCT_ROWS)]
            data[name] = [r for r in rows if any(r.values())]
        elif widget == "checkbox":
            data[name] = form.get(name) in ("on", "true", "1", "ja")
        elif widget == "yesno":
            value = form.get(name, "").strip().lower()
            if value in ("ja", "nee"):
                data[name] = value
        else:
            value = form.get(name, "").strip()
            if widget == "number":
                value = read_number(value, language())
            if value:
                data[name] = value
    return data


# Thousands written with the language's group mark: '18.400' in Dutch, '18,400' in English.
_GROUPED = {"nl": re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$"), "en": re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")}


def read_number(text: str, lang: str) -> str:
    """Return a typed number as the model reads it: '18.400' → '18400' and '3,5' → '3.5' on a Dutch page.

    A Dutch farmer writes a thousands dot and a decimal comma, as the page shows yesterday's figure
    ('18.499'); an English page the other way round. A lone mark that cannot be a thousands group
    ('3.5' from a phone's number pad, '12,5') is the decimal mark either way. Spaces (also the narrow
    ones a locale puts between thousands) are dropped. Anything else is passed on for the model to refuse.
    """
    value = re.sub(r"[\s\u00a0\u202f]", "", text)
    group, decimal = (".", ",") if lang == "nl" else (",", ".")
    if _GROUPED.get(lang, _GROUPED["en"]).match(value):
        return value.replace(group, "").replace(decimal, ".")
    if value.count(",") == 1 and "." not in value:
        return value.replace(",", ".")
    return value


def field_errors(exc: IkbError) -> dict[str, str]:
    """Return one message per form field, in the page's language (a nested row's message says which row)."""
    translations = current_translations()
    out: dict[str, str] = {}
    for problem in exc.problems:
        name = str(problem.loc[0]) if problem.loc else NON_FIELD
        message = problem.render(translations)
        if len(problem.loc) > 1 and isinstance(problem.loc[1], int):
            message = _("rij {n}", n=problem.loc[1] + 1) + ": " + message
        out.setdefault(name, message)
    return out


def parse_form(model: type[BaseModel], form: MultiDict):
    """Validate a submitted form; return (instance, {}) or (None, {field: message})."""
    try:
        return model.model_validate(form_data(model, form)), {}
    except ValidationError as exc:
        return None, field_errors(IkbError(problems=problems_of(exc, model)))
