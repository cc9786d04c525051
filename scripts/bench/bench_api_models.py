"""msgspec Structs against pydantic models on the reservation path: decoding and validating the
`POST /api/reservations` body, and encoding its 201 answer.

    python scripts/bench/bench_api_models.py [--rounds 9] [--number 20000]

pydantic is not one of Tallyman's dependencies; to compare, run this with an interpreter that
has both (a throwaway venv):

    python3 -m venv /tmp/pyd && /tmp/pyd/bin/pip install -q msgspec pydantic
    /tmp/pyd/bin/python scripts/bench/bench_api_models.py

Without pydantic it times msgspec alone and says so. Standalone on purpose (central needs Flask
and the rest), so the models below restate the fields and constraints of
`central/workflows/models.py` `ReservationRequest` and `ReservationGranted`; run with the
project's venv, it checks that their field names still match. Each case is timed in `--rounds`
interleaved rounds of `--number` calls (other work on the machine weighs on all alike); the
median round gives the time per call.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

ID_PATTERN = r"^[A-Za-z0-9_.-]{1,40}$"  # tallyman.wire.ID_PATTERN
CHANNELS = ("store", "group_buy", "online", "dropship", "group-buy")

BODY = b'{"sku":"SKU-000123","site":"STORE1","qty":2,"channel":"online"}'
GRANTED = {
    "id": 41872,
    "number": "RES-041872",
    "sku": "SKU-000123",
    "site": "STORE1",
    "partner": None,
    "requested_site": "STORE1",
    "routed": False,
    "channel": "online",
    "qty": 2,
    "status": "active",
    "ref": None,
    "created_at": "2025-03-14T09:26:53.589Z",
    "expires_at": "2025-03-14T09:41:53.589Z",
    "allocations": [{"loc": "STORE1/A-01-3", "qty": 2}],
}


# --- msgspec (as central declares them) ----------------------------------------------------


class Request(msgspec.Struct, omit_defaults=True):
    sku: Annotated[str, Meta(min_length=1)]
    site: Annotated[str, Meta(pattern=ID_PATTERN)]
    qty: Annotated[int, Meta(gt=0, le=1_000_000_000)]
    channel: Literal[CHANNELS]  # type: ignore[valid-type]
    ttl_s: Annotated[float, Meta(gt=0)] | UnsetType = UNSET
    ref: Annotated[str, Meta(max_length=64)] | None = None
    route: bool = True


class Allocation(msgspec.Struct, forbid_unknown_fields=True):
    loc: str | None
    qty: int


class Granted(msgspec.Struct, forbid_unknown_fields=True):
    id: int
    number: str
    sku: str
    site: str | None
    partner: str | None
    requested_site: str
    routed: bool
    channel: str
    qty: int
    status: str
    ref: str | None
    created_at: str
    expires_at: str
    allocations: list[Allocation]


def msgspec_cases() -> dict[str, Callable[[], object]]:
    decode = msgspec.json.Decoder(Request).decode
    encode = msgspec.json.Encoder().encode
    as_struct = msgspec.convert(GRANTED, Granted)
    return {
        "decode + validate the body": lambda: decode(BODY),
        "encode the 201 from the desk's dict": lambda: encode(GRANTED),
        "build the 201 model from the dict + encode": lambda: encode(
            msgspec.convert(GRANTED, Granted)
        ),
        "encode a built 201 model": lambda: encode(as_struct),
    }


# --- pydantic ------------------------------------------------------------------------------


def pydantic_cases() -> dict[str, Callable[[], object]] | None:
    try:
        from pydantic import BaseModel, ConfigDict, Field
        from pydantic_core import to_json
    except ImportError:
        return None

    class PRequest(BaseModel):
        sku: Annotated[str, Field(min_length=1)]
        site: Annotated[str, Field(pattern=ID_PATTERN)]
        qty: Annotated[int, Field(gt=0, le=1_000_000_000)]
        channel: Literal[CHANNELS]  # type: ignore[valid-type]
        ttl_s: Annotated[float, Field(gt=0)] | None = None
        ref: Annotated[str, Field(max_length=64)] | None = None
        route: bool = True

    class PAllocation(BaseModel):
        model_config = ConfigDict(extra="forbid")
        loc: str | None
        qty: int

    class PGranted(BaseModel):
        model_config = ConfigDict(extra="forbid")
        id: int
        number: str
        sku: str
        site: str | None
        partner: str | None
        requested_site: str
        routed: bool
        channel: str
        qty: int
        status: str
        ref: str | None
        created_at: str
        expires_at: str
        allocations: list[PAllocation]

    built = PGranted.model_validate(GRANTED)
    assert msgspec.json.decode(built.model_dump_json()) == GRANTED
    assert msgspec.json.decode(to_json(GRANTED)) == GRANTED
    assert PRequest.model_validate_json(BODY).model_dump() == msgspec.structs.asdict(
        msgspec.json.decode(BODY, type=Request)
    ) | {"ttl_s": None}
    return {
        "decode + validate the body": lambda: PRequest.model_validate_json(BODY),
        "encode the 201 from the desk's dict": lambda: to_json(GRANTED),
        "build the 201 model from the dict + encode": lambda: PGranted.model_validate(
            GRANTED
        ).model_dump_json(),
        "encode a built 201 model": built.model_dump_json,
    }


def check_against_central() -> None:
    """The restated models have central's field names (only when central imports)."""
    try:
        from central.workflows import models
    except ImportError:
        print("(central not importable here: field names not checked against it)")
        return
    for ours, theirs in (
        (Request, models.ReservationRequest),
        (Granted, models.ReservationGranted),
    ):
        if ours.__struct_fields__ != theirs.__struct_fields__:
            sys.exit(f"{theirs.__name__} changed: {theirs.__struct_fields__}; update this script")
    print("field names match central/workflows/models.py")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9, help="interleaved rounds per case")
    ap.add_argument("--number", type=int, default=20_000, help="calls per round")
    args = ap.parse_args()
    if args.rounds < 1 or args.number < 1:
        ap.error("--rounds and --number must be at least 1")
    check_against_central()

    sides = {"msgspec": msgspec_cases()}
    pyd = pydantic_cases()
    if pyd is None:
        print("pydantic is not installed in this interpreter: timing msgspec alone (see --help)")
    else:
        import pydantic

        sides["pydantic"] = pyd
    print(
        f"python {sys.version.split()[0]}, msgspec {msgspec.__version__}"
        + (f", pydantic {pydantic.VERSION}" if pyd is not None else "")
    )

    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for side, cases in sides.items():
            for name, f in cases.items():
                t0 = time.perf_counter()
                for _ in range(args.number):
                    f()
                times.setdefault((side, name), []).append((time.perf_counter() - t0) / args.number)

    print(f"µs per call, median of {args.rounds} rounds × {args.number:,} calls")
    names = list(sides["msgspec"])
    width = max(map(len, names))
    print(f"{'':{width}}  " + "  ".join(f"{side:>9}" for side in sides))
    for name in names:
        cells = [times.get((side, name)) for side in sides]
        row = "  ".join(f"{statistics.median(c) * 1e6:9.2f}" if c else f"{'—':>9}" for c in cells)
        print(f"{name:{width}}  {row}")


if __name__ == "__main__":
    main()
