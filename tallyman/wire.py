"""The MQTT wire contract (v1), defined once for edge, central, simulator and tests.

Why hand-written validation instead of jsonschema: central validates every event on the hot ingest
path (tens of thousands per second); plain checks are an order of magnitude faster and give reasons
a person can act on. This module is the contract: topics, envelopes, event fields and reason
codes are defined here and nowhere else.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime
from typing import Any, TypeGuard

import orjson

VERSION = 1
PREFIX = "tallyman/v1"

#: Largest movements payload central accepts; a larger one is dead-lettered, never parsed.
MAX_PAYLOAD_BYTES = 1 << 20
#: Most events in one movements message (the edge batches up to this many).
MAX_EVENTS_PER_MESSAGE = 5000

#: Movement types and the sign they give `qty`. `adjust` carries its own sign, `putaway` moves
#: stock from `loc` to `to_loc` (net zero for the site) and `count` sets the quantity at `loc`.
SIGN: dict[str, int] = {
    "receive": 1,
    "return": 1,
    "transfer_in": 1,
    "pick": -1,
    "sale": -1,
    "scrap": -1,
    "transfer_out": -1,
    "adjust": 1,
    "putaway": 0,
    "count": 0,
}
TYPES = frozenset(SIGN)

#: Reason codes, each with the hint a person needs to act on it. Edge screens, acks and central's
#: dead-letter table all use these codes.
REASONS: dict[str, str] = {
    "malformed_payload": "the message is not the v1 movements JSON; fix the sender",
    "payload_too_large": f"the message is over {MAX_PAYLOAD_BYTES} bytes; send smaller batches",
    "unsupported_version": "the message's v is not 1; upgrade the sender",
    "topic_mismatch": "the payload's device/site differ from the topic's; check the device config",
    "invalid_event": "an event field is missing or malformed (see detail)",
    "unknown_gtin": "no item has this GTIN; add it with `tallyman import items`, then retry",
    "unknown_sku": "no item has this SKU; add it with `tallyman import items`, then retry",
    "unknown_location": "the location is not in master data; import it, then retry",
    "seq_replayed": "this device already sent a different event with this seq; the device's "
    "sequence was reset: re-register the device",
    "wrong_site": "the event's location is not at the device's site",
    "serial_repeated": "this serial's last movement was this very one; scan what happened in "
    "between (e.g. a return before a second sale)",
    "count_held": "the count is in the ledger but its variance is above the hold limit: stock "
    "stays unchanged until an approver approves it (`tallyman workflow count approve`)",
}

#: Device and site ids (they become MQTT topic levels); the HTTP models use the same pattern.
ID_PATTERN = r"^[A-Za-z0-9_.-]{1,40}$"
_ID = re.compile(ID_PATTERN)
_LOC = re.compile(r"^([A-Za-z0-9_.-]{1,40})/([A-Za-z0-9_.\-/]{1,60})$")
_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_GTIN = re.compile(r"^\d{14}$")
_TEXT_LIMITS = {"lot": 20, "serial": 20, "ref": 64, "operator": 64, "raw": 512, "sku": 64}
#: Optional label attributes, as the edge's decoder read them (docs/scanning.md): GS1 dates
#: (11, 13, 16), expiry date and time (7003), ship-to GLN (410) and variable measures (310n–369n,
#: or an in-store number's weight or price: `{"ai", "kind", "value", "unit"}`, value as decimal
#: text so that no digit is lost).
_LABEL_DATES = ("production_date", "packaging_date", "sell_by")
_LABEL_KEYS = frozenset((*_LABEL_DATES, "expiry_time", "ship_to", "measures"))
_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
_MEASURE = {
    "ai": re.compile(r"^(rcn|3[1-6]\d\d)$"),
    "kind": re.compile(r"^[a-z_]{1,24}$"),
    "value": re.compile(r"^\d{1,15}(\.\d{1,9})?$"),
    "unit": re.compile(r"^[A-Za-z0-9_/]{0,8}$"),
}
MAX_MEASURES = 8


class WireError(ValueError):
    """A rejected message or event: `code` is one of REASONS, `detail` says exactly what."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail or REASONS.get(code, "")


# --- topics -------------------------------------------------------------------------------


def movements_topic(site: str, device: str) -> str:
    return f"{PREFIX}/{site}/{device}/movements"


def ack_topic(site: str, device: str) -> str:
    return f"{PREFIX}/{site}/{device}/ack"


def status_topic(site: str, device: str) -> str:
    return f"{PREFIX}/{site}/{device}/status"


def alerts_topic(site: str) -> str:
    return f"{PREFIX}/{site}/alerts"


def tasks_topic(site: str) -> str:
    return f"{PREFIX}/{site}/tasks"


MOVEMENTS_SUBSCRIPTION = f"{PREFIX}/+/+/movements"
STATUS_SUBSCRIPTION = f"{PREFIX}/+/+/status"


def parse_device_topic(topic: str) -> tuple[str, str, str]:
    """Split `tallyman/v1/{site}/{device}/{kind}`; raises WireError(topic_mismatch) otherwise."""
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != PREFIX:
        raise WireError("topic_mismatch", f"not a v1 device topic: {topic!r}")
    return parts[2], parts[3], parts[4]


def valid_id(value: object) -> TypeGuard[str]:
    """Sites and devices become topic levels and broker user names: no '/', '+', '#'."""
    return isinstance(value, str) and bool(_ID.match(value))


def site_of(loc: str) -> str:
    """`SITE/BIN` → `SITE`."""
    return loc.split("/", 1)[0]


def valid_loc(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(_LOC.match(value))


@functools.lru_cache(maxsize=1 << 14)
def _loc_site(value: str) -> str | None:
    """The site of a valid `SITE/BIN`, else None. Cached: on the ingest hot path, and a site has
    a few thousand bins."""
    return site_of(value) if _LOC.match(value) else None


# --- GTIN -------------------------------------------------------------------------------


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of the digits before it (GS1 General Specifications §7.9.1)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def valid_gtin14(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _valid_gtin14(value)


@functools.lru_cache(maxsize=1 << 17)
def _valid_gtin14(value: str) -> bool:
    """Cached: a site scans the same few thousand GTINs all day, on the ingest hot path."""
    return bool(_GTIN.match(value)) and gs1_check_digit(value[:-1]) == int(value[-1])


def gtin14(body_without_check: str) -> str:
    """Pad to 13 digits and append the check digit: a valid GTIN-14."""
    body = body_without_check.zfill(13)
    return body + str(gs1_check_digit(body))


# --- time -------------------------------------------------------------------------------


def now_ts() -> str:
    """RFC 3339 UTC with milliseconds, the form every event's `ts` takes."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_ts(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


# --- events -----------------------------------------------------------------------------


def validate_event(ev: Any, site: str) -> dict[str, Any]:
    """Check one event against the v1 schema; returns it, or raises WireError(invalid_event...).

    `site` is the sending device's site: an event's `loc` must be there (`to_loc` may be anywhere).
    """
    if not isinstance(ev, dict):
        raise WireError("invalid_event", "event is not an object")
    seq = ev.get("seq")
    if type(seq) is not int or seq < 1:
        raise WireError("invalid_event", "seq must be a positive integer")
    ts = ev.get("ts")
    if not isinstance(ts, str) or not _TS.match(ts):
        raise WireError("invalid_event", f"seq {seq}: ts must be RFC 3339 UTC, got {ts!r}")
    typ = ev.get("type")
    if typ not in TYPES:
        raise WireError("invalid_event", f"seq {seq}: unknown type {typ!r}")
    qty = ev.get("qty")
    if type(qty) is not int:
        raise WireError("invalid_event", f"seq {seq}: qty must be an integer")
    if typ == "count":
        if qty < 0:
            raise WireError("invalid_event", f"seq {seq}: a count cannot be negative")
    elif typ == "adjust":
        if qty == 0:
            raise WireError("invalid_event", f"seq {seq}: an adjustment of 0 changes nothing")
    elif qty <= 0:
        raise WireError("invalid_event", f"seq {seq}: qty must be positive for {typ}")
    if abs(qty) > 1_000_000_000:
        raise WireError("invalid_event", f"seq {seq}: qty {qty} is out of range")
    loc = ev.get("loc")
    loc_site = _loc_site(loc) if isinstance(loc, str) else None
    if loc_site is None:
        raise WireError("invalid_event", f"seq {seq}: loc must be SITE/BIN, got {loc!r}")
    if loc_site != site:
        raise WireError("wrong_site", f"seq {seq}: loc {loc} is not at site {site}")
    to_loc = ev.get("to_loc")
    if to_loc is not None and not valid_loc(to_loc):
        raise WireError("invalid_event", f"seq {seq}: to_loc must be SITE/BIN, got {to_loc!r}")
    if typ == "putaway" and to_loc is None:
        raise WireError("invalid_event", f"seq {seq}: a putaway needs to_loc")
    sku, gtin = ev.get("sku"), ev.get("gtin")
    if sku is None and gtin is None:
        raise WireError("invalid_event", f"seq {seq}: needs sku or gtin")
    if gtin is not None and not valid_gtin14(gtin):
        raise WireError("invalid_event", f"seq {seq}: gtin {gtin!r} is not a valid GTIN-14")
    for key, limit in _TEXT_LIMITS.items():
        val = ev.get(key)
        if val is not None and (not isinstance(val, str) or len(val) > limit):
            raise WireError("invalid_event", f"seq {seq}: {key} must be text of ≤ {limit} chars")
    expiry = ev.get("expiry")
    if expiry is not None and (not isinstance(expiry, str) or not _DATE.match(expiry)):
        raise WireError("invalid_event", f"seq {seq}: expiry must be YYYY-MM-DD")
    if not _LABEL_KEYS.isdisjoint(ev):
        _check_label(ev, seq)
    return ev


def _check_label(ev: dict[str, Any], seq: int) -> None:
    for key in _LABEL_DATES:
        val = ev.get(key)
        if val is not None and (not isinstance(val, str) or not _DATE.match(val)):
            raise WireError("invalid_event", f"seq {seq}: {key} must be YYYY-MM-DD")
    val = ev.get("expiry_time")
    if val is not None and (not isinstance(val, str) or not _MINUTE.match(val)):
        raise WireError("invalid_event", f"seq {seq}: expiry_time must be YYYY-MM-DDTHH:MM")
    val = ev.get("ship_to")
    if val is not None and not valid_gtin14(f"0{val}" if isinstance(val, str) else None):
        raise WireError("invalid_event", f"seq {seq}: ship_to must be a 13-digit GLN")
    measures = ev.get("measures")
    if measures is None:
        return
    if not isinstance(measures, list) or not 0 < len(measures) <= MAX_MEASURES:
        raise WireError("invalid_event", f"seq {seq}: measures must be a list of 1–{MAX_MEASURES}")
    for m in measures:
        if not (
            isinstance(m, dict)
            and m.keys() == _MEASURE.keys()
            and all(isinstance(m[k], str) and rx.match(m[k]) for k, rx in _MEASURE.items())
        ):
            raise WireError(
                "invalid_event",
                f"seq {seq}: a measure is {{ai, kind, value, unit}} like "
                f'{{"ai": "3103", "kind": "net_weight", "value": "1.250", "unit": "kg"}}',
            )


#: Types after which a serialised unit has left stock: where it left from does not matter.
_LEAVES = frozenset({"sale", "pick", "scrap"})


def serial_state(typ: str, loc: str | None, to_loc: str | None) -> tuple[str, str | None]:
    """The state a serialised unit is in after a movement: (type, place). Edge and central judge
    each serial scan against the serial's current state: a scan that leads to the state it is
    already in (the same transition again, nothing in between) is a repeat and is refused;
    sold, returned and sold again are three transitions."""
    if typ in _LEAVES:
        return typ, None
    return typ, to_loc if typ in ("putaway", "transfer_out") else loc


def encode_movements(site: str, device: str, events: list[dict[str, Any]]) -> bytes:
    return json.dumps(
        {"v": VERSION, "device": device, "site": site, "events": events}, separators=(",", ":")
    ).encode()


def decode_movements(topic: str, payload: bytes) -> tuple[str, str, list[Any]]:
    """Parse a movements message and check its envelope; events are validated one by one later.

    Returns (site, device, events). Raises WireError for anything that sinks the whole message.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise WireError("payload_too_large", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    t_site, t_device, kind = parse_device_topic(topic)
    if kind != "movements":
        raise WireError("topic_mismatch", f"not a movements topic: {topic!r}")
    try:
        msg = orjson.loads(payload)  # C parser: the largest share of ingest's per-event work
    except (ValueError, UnicodeDecodeError) as exc:
        raise WireError("malformed_payload", f"not JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise WireError("malformed_payload", "payload is not a JSON object")
    if msg.get("v") != VERSION:
        raise WireError("unsupported_version", f"v={msg.get('v')!r}")
    site, device, events = msg.get("site"), msg.get("device"), msg.get("events")
    if not valid_id(site) or not valid_id(device):
        raise WireError("malformed_payload", "site and device must be ids like STORE1, hh-01")
    if (site, device) != (t_site, t_device):
        raise WireError(
            "topic_mismatch",
            f"payload says {site}/{device}, topic says {t_site}/{t_device}",
        )
    if not isinstance(events, list) or not events:
        raise WireError("malformed_payload", "events must be a non-empty list")
    if len(events) > MAX_EVENTS_PER_MESSAGE:
        raise WireError("payload_too_large", f"{len(events)} events > {MAX_EVENTS_PER_MESSAGE}")
    return site, device, events


# --- acks and status --------------------------------------------------------------------


def encode_ack(
    upto: int,
    rejected: list[dict[str, Any]] | None = None,
    held: list[dict[str, Any]] | None = None,
) -> bytes:
    """`upto`: every seq ≤ upto of this device is in central's ledger or dead-letter table.

    `held` lists counts that are in the ledger (so covered by `upto`, not rejected) but wait for
    an approver: the key is sent only when there is one, so that every other ack stays as it
    was and an edge that does not know it still drops the event on `upto`."""
    msg: dict[str, Any] = {"upto": upto, "rejected": rejected or []}
    if held:
        msg["held"] = held
    return json.dumps(msg, separators=(",", ":")).encode()


def rejection(seq: int, code: str, detail: str = "") -> dict[str, Any]:
    return {"seq": seq, "code": code, "detail": detail or REASONS.get(code, "")}


def decode_ack(
    payload: bytes | bytearray,
) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
    """(upto, rejected, held): see `encode_ack`."""
    msg = json.loads(payload)
    upto = msg["upto"]
    if type(upto) is not int:
        raise WireError("malformed_payload", "ack upto must be an integer")
    rejected = [r for r in msg.get("rejected", []) if isinstance(r, dict) and "seq" in r]
    held = [h for h in msg.get("held", []) if isinstance(h, dict) and "seq" in h]
    return upto, rejected, held


def encode_status(state: str, queue: int, **extra: Any) -> bytes:
    return json.dumps({"state": state, "queue": queue, "ts": now_ts(), **extra}).encode()
