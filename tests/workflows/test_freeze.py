"""Promotion freezes hold for every transfer, not only planning's suggestions (issue 12 #3).

The rules are planning's (`[[transfers.freeze]]` in the planning TOML), handed to the workflows
by central's lifecycle. A transfer that a rule freezes today is refused when it is proposed (by
hand or from suggestions) unless the planner asks for an override, and cannot be approved
unless an approver overrides the freeze, which the audit trail records.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from central.planning.core.config import FREEZE_SCOPES, FreezeRule
from central.planning.core.transfers import freeze_masks
from central.stock import ledger
from central.workflows.freeze import Freezes
from tests.workflows.conftest import running_central

TODAY = datetime.now(UTC).date()
A1_OUT = {"from_site": "DC1", "to_site": "STORE1", "lines": [{"sku": "A1", "qty": 2}]}


@pytest.fixture
def frozen(broker, catalogue, tmp_path):
    """Central whose planning settings freeze A1 on every lane from yesterday to tomorrow."""
    config = tmp_path / "planning.toml"
    config.write_text(
        "[[transfers.freeze]]\n"
        'name = "promo"\n'
        f'start = "{TODAY - timedelta(days=1)}"\n'
        f'end = "{TODAY + timedelta(days=1)}"\n'
        'scope = "all"\n'
        'skus = ["A1"]\n'
    )
    with running_central(broker, catalogue, str(config)) as c:
        yield c


def audit(c, action: str) -> list[dict]:
    return c.call("GET", f"/audit?action={action}", "approver", status=200).get_json()["rows"]


def test_manual_and_suggested_transfers_of_a_frozen_sku_are_refused(frozen):
    c = frozen
    r = c.call("POST", "/transfers", "planner", A1_OUT, status=409).get_json()
    assert r["error"] == "frozen"
    assert r["detail"].startswith("lines[0].sku: A1 may not leave DC1 for STORE1")
    assert "'promo'" in r["detail"] and "override_freeze" in r["detail"]
    suggestion = {"sku": "A1", "from_site": "DC1", "to_site": "STORE1", "qty": 2}
    r = c.call("POST", "/transfers/from-suggestions", "planner", {"suggestions": [suggestion]})
    assert (r.status_code, r.get_json()["error"]) == (409, "frozen")
    assert c.get("/transfers")["rows"] == []
    # a SKU no rule names moves as before
    b2 = {**A1_OUT, "lines": [{"sku": "B2", "qty": 1}]}
    c.call("POST", "/transfers", "planner", b2, status=201)


def test_only_an_approver_overriding_the_freeze_sends_it_out(frozen):
    c = frozen
    body = {**A1_OUT, "override_freeze": True, "note": "store opening"}
    to = c.call("POST", "/transfers", "planner", body, status=201).get_json()
    assert to["status"] == "proposed"
    (created,) = audit(c, "transfer.create.manual")
    assert json.loads(created["detail"]) == {
        "override_freeze_requested": [{"sku": "A1", "rule": "promo"}]
    }
    url = f"/transfers/{to['number']}/approve"
    r = c.call("POST", url, "approver", {"note": "ok"}, status=409).get_json()
    assert r["error"] == "frozen" and "A1 may not leave DC1" in r["detail"]
    assert c.get(f"/transfers/{to['number']}")["status"] == "proposed"
    assert c.get("/tasks?site=DC1")["tasks"] == []  # nothing went to the handhelds
    c.call("POST", url, "planner", {"override_freeze": True}, status=403)  # not an approver
    got = c.call(
        "POST", url, "approver", {"override_freeze": True, "note": "CEO says so"}, status=200
    ).get_json()
    assert got["status"] == "approved"
    (override,) = audit(c, "transfer.freeze_override")
    assert (override["actor"], override["role"], override["target"]) == (
        "ann",
        "approver",
        to["number"],
    )
    assert json.loads(override["detail"]) == {
        "frozen": [{"sku": "A1", "rule": "promo"}],
        "note": "CEO says so",
    }


def test_a_freeze_that_began_after_the_proposal_holds_at_approval(central):
    c = central
    to = c.call("POST", "/transfers", "planner", A1_OUT, status=201).get_json()
    c.state.workflows.freezes = Freezes([FreezeRule("late", start=TODAY, scope="all")])
    c.call("POST", f"/transfers/{to['number']}/approve", "approver", status=409)
    c.state.workflows.freezes = Freezes([FreezeRule("over", end=TODAY - timedelta(days=1))])
    c.call("POST", f"/transfers/{to['number']}/approve", "approver", status=200)


# --- the workflows read the rules as planning does -------------------------------------------

SITES = {"DC1": "dc", "DC2": None, "STORE1": "store", "STORE2": None}
ITEMS = [("A1", "tools", 150.0), ("B2", "office", 20.0), ("C3", None, 0.0)]


def _rules() -> list[FreezeRule]:
    """One rule per combination of scope, SKU filter and site list (and two off today)."""
    filters = [
        {},
        {"categories": ("tools",)},
        {"categories": ("uncategorised",)},
        {"skus": ("B2", "C3")},
        {"min_unit_value": 100.0},
    ]
    site_lists = [(), ("STORE2",), ("DC1", "STORE1")]
    rules = [
        FreezeRule(f"r{i}", scope=scope, sites=sites, **f)
        for i, (scope, f, sites) in enumerate(itertools.product(FREEZE_SCOPES, filters, site_lists))
    ]
    rules.append(FreezeRule("past", end=TODAY - timedelta(days=1), scope="all"))
    rules.append(FreezeRule("future", start=TODAY + timedelta(days=1), scope="all"))
    return rules


@pytest.mark.parametrize("dc_sites", [None, ("DC2",)])
def test_hits_agree_with_planning_freeze_masks(tmp_path, dc_sites):
    conn = ledger.connect(tmp_path / "master.db")
    conn.executemany("INSERT INTO items (sku, category, unit_cost) VALUES (?, ?, ?)", ITEMS)
    conn.executemany(
        "INSERT INTO locations (loc, site, kind) VALUES (?, ?, ?)",
        [(f"{s}/X", s, kind) for s, kind in SITES.items()],
    )
    sites = sorted(SITES)
    is_dc = [s in dc_sites if dc_sites else SITES[s] == "dc" for s in sites]
    categories = sorted({c or "uncategorised" for _, c, _ in ITEMS})
    for rule in _rules():
        sku_mask, lane_mask = freeze_masks(
            [rule],
            TODAY,
            sku_names=[s for s, _, _ in ITEMS],
            sku_category=np.array([categories.index(c or "uncategorised") for _, c, _ in ITEMS]),
            category_names=categories,
            sku_unit_cost=np.array([cost for _, _, cost in ITEMS]),
            site_names=sites,
            site_is_dc=np.array(is_dc),
        )
        planning = sku_mask.any(axis=0)[:, None, None] & lane_mask.any(axis=0)[None, :, :]
        freezes = Freezes([rule], dc_sites)
        for (k, (sku, _, _)), (a, src), (b, dst) in itertools.product(
            enumerate(ITEMS), enumerate(sites), enumerate(sites)
        ):
            hit = bool(freezes.hits(conn, [sku], src, dst, TODAY))
            assert hit == bool(planning[k, a, b]), (rule, sku, src, dst)
    conn.close()


def test_no_rules_no_freeze(tmp_path):
    conn = ledger.connect(tmp_path / "empty.db")
    assert Freezes().hits(conn, ["A1"], "DC1", "STORE1", date(2025, 11, 25)) == []
    conn.close()
