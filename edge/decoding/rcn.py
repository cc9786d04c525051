"""In-store variable-measure numbers: an RCN-13 (GS1 prefix 02 or 20–29) whose digits hold both
the item and the weight or price of this one pack, as printed by a scale at the counter.

Why a configurable layout: the GS1 General Specifications (§2.1.14.2, "GTIN-13 / RCN-13 for
variable measure trade items") fix only the frame, the GS1 prefix first and the check digit
last, and leave where the item reference ends, whether the measure is a weight or a price, its
decimal point and an optional measure verifier digit to each GS1 Member Organisation. The default
is the specification's plain structure "item reference, item measure" (digits 1–7 the prefix and
item reference, digits 8–12 the measure, no verifier), which is also the US random-weight UPC-A
(prefix 02, a 5-digit price): 02 and 20–24 carry a price with 2 decimals, 25–29 a weight in kg
with 3 decimals. A site sets its own Member Organisation's table with entries such as
`28=weight:PPPPPPCVVVVV:3:kg` (see docs/scanning.md).

The item is the RCN with its measure digits (and verifier) set to zero, as item masters list it;
the measure travels beside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from edge.decoding.scan import DecodeError, Measure
from tallyman.wire import gtin14

PREFIXES = ("02", *(f"2{d}" for d in range(10)))
KINDS = ("weight", "price", "none")
DEFAULT_LAYOUT = "PPPPPPPVVVVV"

#: A layout covers the 12 digits before the check digit: P the GS1 prefix and item reference, an
#: optional C the measure verifier digit (GS1 General Specifications §7.9.2–7.9.4, for a 4- or
#: 5-digit measure), V the measure.
_LAYOUT = re.compile(r"^P{2,}C?V+$")
_ENTRY = re.compile(r"^(\d{2})=([a-z]+)(?::([PCV]*))?(?::(\d))?(?::(\S{0,8}))?$")


@dataclass(frozen=True)
class RcnRule:
    """How one RCN prefix is read: `kind` weight, price or none (an opaque item number),
    `layout` as above, `decimals` of the measure, `unit` (kg; a currency code for a price, or
    empty when the store's currency goes without saying)."""

    kind: str
    layout: str = DEFAULT_LAYOUT
    decimals: int = 0
    unit: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if len(self.layout) != 12 or not _LAYOUT.match(self.layout):
            raise ValueError(
                f"layout must be 12 of P (item), an optional C (verifier), V (measure) in that "
                f"order, e.g. {DEFAULT_LAYOUT}; got {self.layout!r}"
            )
        if "C" in self.layout and self.layout.count("V") not in (4, 5):
            raise ValueError("a measure verifier digit (C) needs a 4- or 5-digit measure")
        if not 0 <= self.decimals < self.layout.count("V") + 1:
            raise ValueError(f"decimals must be 0 to {self.layout.count('V')}")


_PRICE = RcnRule("price", DEFAULT_LAYOUT, 2, "")
_WEIGHT = RcnRule("weight", DEFAULT_LAYOUT, 3, "kg")
DEFAULT_RULES: Mapping[str, RcnRule] = MappingProxyType(
    {p: (_PRICE if p in ("02", "20", "21", "22", "23", "24") else _WEIGHT) for p in PREFIXES}
)


def parse_rules(
    entries: Iterable[str], base: Mapping[str, RcnRule] = DEFAULT_RULES
) -> Mapping[str, RcnRule]:
    """`base` with each `PREFIX=KIND[:LAYOUT[:DECIMALS[:UNIT]]]` entry replacing its prefix's
    rule; ValueError names the entry that cannot be used."""
    rules = dict(base)
    for entry in entries:
        m = _ENTRY.match(entry.strip())
        if not m:
            raise ValueError(
                f"RCN rule {entry!r} must look like PREFIX=KIND[:LAYOUT[:DECIMALS[:UNIT]]], "
                "e.g. 28=weight:PPPPPPPVVVVV:3:kg"
            )
        prefix, kind, layout, decimals, unit = m.groups()
        if prefix not in PREFIXES:
            raise ValueError(f"RCN rule {entry!r}: prefix must be 02 or 20–29")
        default = _WEIGHT if kind == "weight" else _PRICE
        try:
            rules[prefix] = RcnRule(
                kind,
                layout or DEFAULT_LAYOUT,
                int(decimals) if decimals is not None else default.decimals,
                unit if unit is not None else (default.unit if kind != "none" else ""),
            )
        except ValueError as exc:
            raise ValueError(f"RCN rule {entry!r}: {exc}") from None
    return MappingProxyType(rules)


def variable_measure(gtin: str, rules: Mapping[str, RcnRule]) -> tuple[str, Measure] | None:
    """(the item's GTIN-14 with the measure zeroed, the measure) when `gtin` (a valid GTIN-14)
    is an RCN-13 whose prefix has a weight or price rule; None for every other GTIN.

    Raises DecodeError(bad_check_digit) when the layout has a verifier digit that does not match.
    """
    if gtin[0] != "0":
        return None  # a GTIN-14 with an indicator digit is never an in-store number
    rule = rules.get(gtin[1:3])
    if rule is None or rule.kind == "none":
        return None
    body = gtin[1:13]  # the RCN-13 without its check digit
    measure = "".join(d for d, p in zip(body, rule.layout, strict=True) if p == "V")
    if "C" in rule.layout:
        from biip.checksums import gs1_price_weight_check_digit

        verifier = body[rule.layout.index("C")]
        expected = gs1_price_weight_check_digit(measure)
        if int(verifier) != expected:
            raise DecodeError(
                "bad_check_digit",
                f"RCN {gtin[1:]}: the {rule.kind} check digit should be {expected}, "
                f"not {verifier}; scan again",
            )
        zero_verifier = str(gs1_price_weight_check_digit("0" * len(measure)))
    else:
        zero_verifier = ""
    item = "".join(
        d if p == "P" else ("0" if p == "V" else zero_verifier)
        for d, p in zip(body, rule.layout, strict=True)
    )
    value = Decimal(measure).scaleb(-rule.decimals)
    kind = "net_weight" if rule.kind == "weight" else "price"
    return gtin14(item), Measure("rcn", kind, value, rule.unit)
