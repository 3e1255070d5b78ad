"""`ikb-agent fleet`: the farms' retained status on the upstream broker, as a newcomer subscriber sees it.

A client only — no database of ours. Without a list of KIP numbers it subscribes with a wildcard
(``ikb/+/status`` …); brokers that do not send retained messages to wildcard subscriptions (RabbitMQ 3.x)
need the list (``--kip``), which an integrator has anyway: it is the list of farms it issued certificates to.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from agent.upstream.documents import KINDS, check_chain_doc
from sensors.mqtt import MqttOptions, MqttUnavailable, fetch_retained

EXTRA = ("connected",)  # the bridge's own notification topic


class FleetError(Exception):
    """The broker could not be asked; the message says why."""


def collect_fleet(options: MqttOptions, root: str = "ikb", kips: list[str] | None = None,
                  timeout: float = 10.0) -> dict[str, dict]:
    """Return {kip: {"status": doc, "score": doc, "alerts": doc, "chain": doc, "connected": "1"|"0", "bad": [...]}}."""
    parts = KINDS + EXTRA
    topics = [f"{root}/{kip}/{p}" for kip in kips for p in parts] if kips else [f"{root}/+/{p}" for p in parts]
    try:
        messages = fetch_retained(options, topics, timeout=timeout)
    except MqttUnavailable as exc:
        raise FleetError(str(exc)) from None
    farms: dict[str, dict] = {kip: {} for kip in kips or []}
    for name, payload in messages:
        bits = name.split("/")
        if len(bits) != 3 or bits[0] != root or bits[2] not in parts:
            continue
        farm = farms.setdefault(bits[1], {})
        if bits[2] == "connected":
            farm["connected"] = payload.decode("utf-8", "replace").strip()
            continue
        try:
            doc = json.loads(payload)
            if not isinstance(doc, dict):
                raise ValueError
        except ValueError:
            farm.setdefault("bad", []).append(f"{bits[2]}: not a JSON object")
            continue
        if bits[2] == "chain" and (problem := check_chain_doc(doc)):
            farm.setdefault("bad", []).append(f"chain: {problem}")
            continue
        farm[bits[2]] = doc
    return dict(sorted(farms.items()))


def _age(text: str | None, now: datetime) -> str:
    """Return how long ago an ISO moment was, in words ("3 min", "5 u", "2 d"); "-" when unknown."""
    if not text:
        return "-"
    try:
        seconds = (now - datetime.fromisoformat(text)).total_seconds()
    except (ValueError, TypeError):
        return "?"
    if seconds < 3600:
        return f"{max(0, int(seconds // 60))} min"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} u"
    return f"{int(seconds // 86400)} d"


def fleet_rows(farms: dict[str, dict], now: datetime) -> list[dict]:
    """Return one summary row per farm (what the table and --format json show)."""
    rows = []
    for kip, farm in farms.items():
        status, score = farm.get("status") or {}, farm.get("score") or {}
        alerts, chain = farm.get("alerts") or {}, farm.get("chain") or {}
        counts = score.get("counts") or {}
        open_alerts = alerts.get("open") or []
        rows.append({
            "kip_number": kip, "farm": status.get("farm"), "connected": {"1": True, "0": False}.get(
                farm.get("connected")), "status_time": status.get("time"), "status_age": _age(status.get("time"), now),
            "fingerprint": status.get("fingerprint"), "verdict": score.get("verdict"),
            "counts": counts, "unknown_share": score.get("unknown_share"),
            "open_alerts": len(open_alerts),
            "critical_alerts": sum(1 for a in open_alerts if isinstance(a, dict) and a.get("severity") == "critical"),
            "chain_time": chain.get("time"), "problems": farm.get("bad", []),
            "missing": [k for k in KINDS if k not in farm]})
    return rows


def render_fleet(rows: list[dict]) -> str:
    """Return the farms as a text table, one line each."""
    if not rows:
        return ("geen bedrijven gevonden (een broker die bewaarde berichten niet aan wildcard-abonnementen geeft, "
                "zoals RabbitMQ 3.x, heeft de KIP-nummers nodig: --kip)\n")
    header = f"{'KIP':<10} {'bedrijf':<28} {'verb.':<5} {'status':>8} {'oordeel':<16} {'D':>3} {'KO':>3} " \
             f"{'onbek.':>6} {'alarm':>5} {'keten':>8}\n"
    lines = [header]
    for r in rows:
        connected = {True: "ja", False: "NEE", None: "?"}[r["connected"]]
        share = "-" if r["unknown_share"] is None else f"{r['unknown_share'] * 100:.0f}%"
        alarm = f"{r['open_alerts']}" + (f"!{r['critical_alerts']}" if r["critical_alerts"] else "")
        chain = "-" if not r["chain_time"] else r["chain_time"][:10]
        lines.append(f"{r['kip_number']:<10} {(r['farm'] or '-')[:28]:<28} {connected:<5} {r['status_age']:>8} "
                     f"{(r['verdict'] or '-'):<16} {r['counts'].get('D', '-'):>3} {r['counts'].get('KO', '-'):>3} "
                     f"{share:>6} {alarm:>5} {chain:>8}\n")
        for problem in r["problems"]:
            lines.append(f"{'':<10} ! {problem}\n")
    return "".join(lines)


def save_heads(farms: dict[str, dict], path: Path) -> int:
    """Append every farm's chain-heads document not yet in the file (JSON lines); return how many were new."""
    seen = set()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                seen.add(json.loads(line).get("signature"))
            except (ValueError, AttributeError):
                continue
    new = [farm["chain"] for farm in farms.values() if farm.get("chain") and farm["chain"]["signature"] not in seen]
    if new:
        with open(path, "a", encoding="utf-8") as fh:
            for doc in new:
                fh.write(json.dumps(doc, ensure_ascii=False, sort_keys=True) + "\n")
    return len(new)
