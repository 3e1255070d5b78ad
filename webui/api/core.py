"""The JSON API ``/api/v1/…``: score, findings, rules, sensors, readings, documents, assessments.

Authentication: the page's session (unsafe methods then need the
``X-CSRFToken`` header) or ``Authorization: Bearer <token>`` from
``ikb-agent user token NAME``. The OpenAPI document at ``/api/openapi.json``
is public; it is built from the same pydantic models that validate requests.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from flask import Blueprint, g, jsonify
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from agent.evaluation import score_window
from agent.logbooks import AssessmentError, DocumentError, record_answer, record_document
from agent.store import (
    answer_rows,
    bucket_width_s,
    document_rows,
    downsample,
    from_ms,
    get_document,
    get_sensor,
    list_sensors,
)
from rules.catalogue import Rule, load_catalogue
from rules.errors import invalid
from rules.findings import STATUSES
from rules.texts import N_
from webui.access import public
from webui.api.openapi import ApiError, ApiRegistry, refused
from webui.inputs import AssessmentBody, DocumentBody
from webui.scores import current
from webui.state import get_config, get_store, get_writer, now, scores

bp = Blueprint("api", __name__)
api = ApiRegistry(bp, "ikb-agent API", "1")

StatusName = Literal[STATUSES]  # type: ignore[valid-type]
MAX_WINDOW = timedelta(days=800)


# --------------------------------------------------------------------------- response models


class RepairOut(BaseModel):
    """The corrective action recorded for an occurrence (DESIGN §3.5 v2)."""

    id: int = Field(description="The corrective_actions logbook entry")
    date: date
    action: str
    performed_by: str
    time: str | None = None


class OccurrenceOut(BaseModel):
    """A spell in which the rule was (or may have been) broken, with its repair when recorded."""

    start: datetime
    end: datetime | None
    detail: str
    repair: RepairOut | None = None


class FindingOut(BaseModel):
    """The status of one rule at one location (DESIGN §3.5)."""

    rule: str
    location: str | None
    status: StatusName
    source: str
    summary: str
    occurrences: list[OccurrenceOut]
    evidence: str | None = None
    repaired: bool = Field(False, description="A D whose every occurrence has its repair recorded")
    not_checked: bool = Field(False, description="nvt: the scheme's 'niet gecontroleerd' condition is proven")
    setup: list[str] = Field(default_factory=list, description="unknown until the agent is set up for it: the steps")


class DueOut(BaseModel):
    """Something that falls due."""

    rule: str
    location: str | None
    due: date
    what: str
    overdue: bool


class SetupOut(BaseModel):
    """A step in setting up the agent that keeps rules unknown (not a farm deviation)."""

    step: str
    rules: list[str]
    locations: list[str | None]


class ScoreOut(BaseModel):
    """The score document (DESIGN §3.5) with the due list and where it came from."""

    at: datetime
    since: datetime
    scheme: Literal["IKB Ei"]
    verdict: Literal["suspension", "repair_required", "remarks", "incomplete", "ready"]
    weights: dict[str, str] = Field(description="The scheme's text per category (B, C, D, KO); no points are summed")
    counts: dict[str, int]
    findings: list[FindingOut]
    due: list[DueOut]
    setup: list[SetupOut]
    evaluated_by: Literal["agent", "web"]


class SensorOut(BaseModel):
    """A stored sensor."""

    id: int
    topic: str
    field: str
    kind: str
    location: str


class BucketOut(BaseModel):
    """Readings in one bucket [t, t + bucket_s)."""

    t: datetime
    n: int
    min: float
    max: float
    mean: float


class ReadingsOut(BaseModel):
    """A sensor's readings over a window, reduced to buckets."""

    sensor: SensorOut
    since: datetime
    until: datetime
    bucket_s: int
    buckets: list[BucketOut]


class DocumentOut(BaseModel):
    """A recorded document."""

    id: int
    rule: str
    kind: str
    title: str
    issued_on: date
    valid_until: date | None
    location: str | None
    note: str
    file_id: int | None
    recorded_by: str
    recorded_at: datetime


class AssessmentOut(BaseModel):
    """A self-assessment answer."""

    id: int | None = None
    rule: str
    location: str | None
    status: str
    note: str
    answered_by: str
    answered_at: datetime
    file_id: int | None = None


# --------------------------------------------------------------------------- query models


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _farm_era(moment: datetime) -> datetime:
    """Refuse moments no farm record has (year 1 or 99999 would overflow the window arithmetic: a 500)."""
    if not 1970 <= moment.year < 2200:
        raise invalid("era", N_("verwacht een moment tussen 1970 en 2200"))
    return moment


# A query moment: ISO 8601 with offset, between 1970 and 2200.
Moment = Annotated[AwareDatetime, AfterValidator(_farm_era)]


class ScoreQuery(_Query):
    """Evaluate a past window instead of the current score."""

    at: Moment | None = Field(None, description="End of the window (ISO 8601 with offset); default now")
    since: Moment | None = Field(None, description="Start of the window; default at − 30 days")


class FindingsQuery(_Query):
    """Filter the current findings."""

    status: StatusName | None = None
    rule: str | None = Field(None, max_length=16)
    location: str | None = Field(None, max_length=32)


class RulesQuery(_Query):
    """Filter the catalogue."""

    annex: Literal["1.2A", "1.2E", "1.2G", "1.2H", "1.2I"] | None = None
    evaluation: Literal["sensor", "logbook", "document", "self_assessment"] | None = None


class ReadingsQuery(_Query):
    """Which sensor, which window, how many points."""

    sensor: int = Field(ge=1, le=2**62, description="Sensor id (see /api/v1/sensors)")
    since: Moment | None = Field(None, description="Default: until − 48 hours")
    until: Moment | None = Field(None, description="Default: now")
    points: int = Field(300, ge=10, le=2000, description="At most this many buckets")


class AssessmentsQuery(_Query):
    """Filter the answers."""

    rule: str | None = Field(None, max_length=16)


# --------------------------------------------------------------------------- views


def _score_out(result, evaluated_by: str) -> ScoreOut:
    """Return the API shape of a Score."""
    return ScoreOut.model_validate({**result.to_json(), "evaluated_by": evaluated_by})


@bp.get("/api/openapi.json")
@public
def openapi():
    """Return the OpenAPI document (public: it holds no farm data)."""
    return jsonify(api.document())


@api.route("/api/v1/score", summary="The current score, or the score of a past window", query=ScoreQuery,
           response=ScoreOut)
def score(query: ScoreQuery):
    """Return the score (DESIGN §3.5)."""
    if query.at is None and query.since is None:
        view = current(get_store(), get_config(), now())
        return _score_out(view.score, view.source)
    at = query.at or now()
    since = query.since or at - timedelta(days=30)
    if since >= at:
        return refused(422, "invalid", ApiError("since", "before", {"other": "at"}))
    if at - since > MAX_WINDOW:
        # Checked after the defaults: `since` alone in year 1 would otherwise ask for 2000 years.
        return refused(422, "invalid", ApiError("since", "window", {"days": MAX_WINDOW.days}))
    return _score_out(score_window(get_store(), get_config(), at=at, since=since), "web")


@api.route("/api/v1/findings", summary="The current findings, filtered", query=FindingsQuery,
           response=list[FindingOut])
def findings(query: FindingsQuery):
    """Return the current findings."""
    view = current(get_store(), get_config(), now())
    rule = load_catalogue().get(query.rule).id if query.rule and load_catalogue().get(query.rule) else query.rule
    out = []
    for f in view.score.findings:
        if (query.status and f.status != query.status) or (rule and f.rule != rule) or \
                (query.location and (f.location or "") != query.location):
            continue
        out.append(f.to_json())
    return out


@api.route("/api/v1/rules", summary="The IKB Ei rule catalogue", query=RulesQuery, response=list[Rule])
def rules(query: RulesQuery):
    """Return the catalogue's rules."""
    return [r.public_dict() for r in load_catalogue()
            if (not query.annex or r.annex == query.annex) and (not query.evaluation or r.evaluation == query.evaluation)]


@api.route("/api/v1/rules/<rule_id>", summary="One rule", response=Rule)
def rule(rule_id: str):
    """Return one rule."""
    found = load_catalogue().get(rule_id)
    if found is None:
        return refused(404, "not_found", ApiError("rule_id", "no_rule", {"rule": rule_id}))
    return found.public_dict()


@api.route("/api/v1/sensors", summary="The stored sensors", response=list[SensorOut])
def sensors():
    """Return every sensor the agent has stored readings for."""
    return list_sensors(get_store())


@api.route("/api/v1/readings", summary="A sensor's readings, reduced to buckets (min, max, mean)",
           query=ReadingsQuery, response=ReadingsOut, errors={404: "No such sensor."})
def readings(query: ReadingsQuery):
    """Return a sensor's downsampled readings."""
    store = get_store()
    sensor = get_sensor(store, query.sensor)
    if sensor is None:
        return refused(404, "not_found", ApiError("sensor", "no_sensor", {"sensor": query.sensor}))
    until = query.until or now()
    since = query.since or until - timedelta(hours=48)
    if since >= until:
        return refused(422, "invalid", ApiError("since", "before", {"other": "until"}))
    if until - since > MAX_WINDOW:
        return refused(422, "invalid", ApiError("since", "window", {"days": MAX_WINDOW.days}))
    buckets = downsample(store, query.sensor, since, until, query.points)
    return {"sensor": sensor, "since": since.isoformat(), "until": until.isoformat(),
            "bucket_s": bucket_width_s(since, until, query.points),
            "buckets": [{"t": from_ms(b.start).isoformat(), "n": b.n, "min": b.vmin, "max": b.vmax, "mean": b.mean}
                        for b in buckets]}


@api.route("/api/v1/documents", summary="The recorded documents", response=list[DocumentOut])
def documents():
    """Return every recorded document, newest first."""
    return document_rows(get_store(), newest_first=True)


@api.route("/api/v1/documents", "POST", summary="Record a document", body=DocumentBody, response=DocumentOut,
           status=201)
def add_document(body: DocumentBody):
    """Validate and store a document (same checks as the page and the CLI)."""
    store = get_store()
    try:
        doc = record_document(get_writer(), kind=body.kind, issued_on=body.issued_on, valid_until=body.valid_until,
                              title=body.title, location=body.location, note=body.note,
                              recorded_by=g.user["name"], now=now(),
                              house_ids={h.id for h in get_config().houses})
    except DocumentError as exc:
        return refused(422, "invalid", exc)
    scores().invalidate(now())
    return get_document(store, doc.id)


@api.route("/api/v1/assessments", summary="Self-assessment answers, newest first", query=AssessmentsQuery,
           response=list[AssessmentOut])
def assessments(query: AssessmentsQuery):
    """Return the answers (optionally of one rule)."""
    rule = None
    if query.rule:
        found = load_catalogue().get(query.rule)
        rule = found.id if found else query.rule
    return answer_rows(get_store(), rule, newest_first=True)


@api.route("/api/v1/assessments", "POST", summary="Answer a self-assessed rule", body=AssessmentBody,
           response=AssessmentOut, status=201)
def add_assessment(body: AssessmentBody):
    """Validate and store an answer (same checks as the page and the CLI)."""
    config = get_config()
    locations = {h.id for h in config.houses} | {r.id for r in config.egg_rooms}
    try:
        answer = record_answer(get_writer(), load_catalogue(), rule_id=body.rule, status=body.status, note=body.note,
                               answered_by=g.user["name"], now=now(), location=body.location or None,
                               locations=locations)
    except AssessmentError as exc:
        return refused(422, "invalid", exc)
    scores().invalidate(now())
    return AssessmentOut(rule=answer.rule, location=answer.location, status=answer.status, note=answer.note,
                         answered_by=answer.answered_by, answered_at=answer.answered_at)

