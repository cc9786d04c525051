"""Read a scenario (TOML, with optional CSV tables) into `model.Scenario`, with errors a planner
can act on.

The format is in docs/simulator.md ("Network model"). Optional beyond the basic tables:
`[network]` defaults for derived lanes, `[[lane]]`, `[defaults.site]` / `[defaults.sku]` merged
under every entry, `[strategy.NAME]` parameter tables, and `suppliers`/`lanes` CSV files like
`sites`/`skus`.
A CSV column is the TOML key path joined with dots (`demand.mean`, `policy.S_days`); empty cells
are left out; a list is written with `;` (`demand.weekly = 1.2;1;1;1;1;1.3;0.9`).

Every table refuses keys it does not know (`tallyman.config.check_keys`), naming the key, where
it is and the valid ones: a misspelt `polcy =` would otherwise leave the SKU on the default
policy and change the answer without a word. Which strategies exist is not the scenario's to
know: `simulator.strategies.check` validates `[run] strategies` and `[strategy.NAME]` tables.
"""

from __future__ import annotations

import csv
import math
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from simulator.scenario.model import (
    DEMAND_DISTS,
    POLICY_KINDS,
    POLICY_LEVELS,
    POLICY_OPTIONAL,
    SITE_KINDS,
    Costs,
    Demand,
    Disruption,
    Lane,
    LeadTime,
    Network,
    Policy,
    Promotion,
    Run,
    Scenario,
    Site,
    Sku,
    Supplier,
)
from tallyman.config import ConfigError, check_keys, read_toml


class ScenarioError(ConfigError):
    """A scenario that cannot be run; the message says where and why."""


# The keys each table takes (the model's fields, as a scenario spells them).
TOP_KEYS = frozenset(
    {"run", "costs", "network", "defaults", "strategy", "live", "disruption"}
    | {"supplier", "site", "sku", "lane", "suppliers", "sites", "skus", "lanes"}
)
RUN_KEYS = frozenset(f.name for f in fields(Run))
COSTS_KEYS = frozenset(f.name for f in fields(Costs))
NETWORK_KEYS = frozenset(f.name for f in fields(Network))
SUPPLIER_KEYS = frozenset(f.name for f in fields(Supplier))
SITE_KEYS = frozenset(f.name for f in fields(Site))
SKU_KEYS = frozenset({f.name for f in fields(Sku)} | {"promotions"})
DEMAND_KEYS = frozenset({"dist", "mean", "sd", "weekly"})
PROMOTION_KEYS = frozenset(f.name for f in fields(Promotion))
LANE_KEYS = frozenset({"from", "to", "days", "cost", "port"})
LEAD_TIME_KEYS = {
    "fixed": frozenset({"dist", "days", "mean"}),
    "poisson": frozenset({"dist", "mean"}),
    "uniform": frozenset({"dist", "low", "high"}),
    "choice": frozenset({"dist", "values", "probs"}),
}
DISRUPTION_KEYS = {
    "outage": frozenset({"start", "days"}),
    "markov": frozenset({"start", "markov"}),
    "surge": frozenset({"surge", "start", "days", "skus", "sites"}),
}
DISRUPTION_TARGETS = ("supplier", "lane", "port", "surge")
MARKOV_KEYS = frozenset({"alpha", "beta"})
DEFAULTS_KEYS = frozenset({"site", "sku"})


def load(path: str | Path) -> Scenario:
    """Load a scenario file; CSV paths inside it are relative to the file. Every error names
    the file."""
    path = Path(path)
    data = read_toml(path)
    try:
        scenario = parse(data, base=path.parent)
    except ConfigError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    if scenario.run.name == "scenario":
        scenario = _renamed(scenario, path.stem)
    return scenario


def _renamed(s: Scenario, name: str) -> Scenario:
    return replace(s, run=replace(s.run, name=name))


def parse(data: dict[str, Any], base: Path = Path(".")) -> Scenario:
    """Turn the TOML document (already decoded) into a validated Scenario."""
    check_keys(data, TOP_KEYS, "the scenario's top level")
    defaults = _table(data, "defaults")
    check_keys(defaults, DEFAULTS_KEYS, "[defaults]")
    check_keys(_table(defaults, "site", "[defaults.site]"), SITE_KEYS, "[defaults.site]")
    check_keys(_table(defaults, "sku", "[defaults.sku]"), SKU_KEYS, "[defaults.sku]")
    run = _run(_table(data, "run"))
    costs = _costs(_table(data, "costs"))
    suppliers = tuple(
        _supplier(r, i) for i, r in enumerate(_rows(data, "supplier", "suppliers", base, {}))
    )
    sites = tuple(
        _site(r, i) for i, r in enumerate(_rows(data, "site", "sites", base, defaults.get("site")))
    )
    skus = tuple(
        _sku(r, i) for i, r in enumerate(_rows(data, "sku", "skus", base, defaults.get("sku")))
    )
    lanes = tuple(_lane(r, i) for i, r in enumerate(_rows(data, "lane", "lanes", base, {})))
    disruptions = tuple(_disruption(r, i) for i, r in enumerate(data.get("disruption", [])))
    network = _network(_table(data, "network"))
    strategies = _table(data, "strategy")
    strategy_params = {k: dict(_table(strategies, k, f"[strategy.{k}]")) for k in strategies}
    live = _live(_table(data, "live"))
    scenario = Scenario(
        run=run,
        costs=costs,
        suppliers=suppliers,
        sites=sites,
        skus=skus,
        lanes=lanes,
        disruptions=disruptions,
        network=network,
        strategy_params=strategy_params,
        live=live,
    )
    validate(scenario)
    return scenario


# --- tables and CSV ------------------------------------------------------------------------


def _table(data: dict, key: str, where: str | None = None) -> dict:
    """`data[key]` as a table ({} when absent); anything else is refused."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ScenarioError(f"{where or f'[{key}]'} must be a table")
    return value


def _rows(
    data: dict, table: str, csv_key: str, base: Path, defaults: dict | None
) -> list[dict[str, Any]]:
    """Entries of `[[table]]` plus the rows of the CSV named by `csv_key`, defaults merged under."""
    rows = list(data.get(table, []))
    if not all(isinstance(r, dict) for r in rows):
        raise ScenarioError(f"`{table}` must be written [[{table}]]: a list of tables")
    if csv_key in data:
        if not isinstance(data[csv_key], str):
            raise ScenarioError(f"`{csv_key}` must name a CSV file")
        rows += read_csv(base / data[csv_key])
    return [_merge(defaults or {}, r) for r in rows]


def _merge(defaults: dict, row: dict) -> dict:
    out = dict(defaults)
    for key, value in row.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def read_csv(path: Path) -> list[dict[str, Any]]:
    """CSV rows as nested dicts: `a.b` columns become {"a": {"b": …}}, cells typed by content."""
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            rows = []
            for line, raw in enumerate(reader, start=2):
                row: dict[str, Any] = {}
                for col, cell in raw.items():
                    if col is None or cell is None or cell.strip() == "":
                        continue
                    *parents, leaf = col.strip().split(".")
                    node = row
                    for p in parents:
                        node = node.setdefault(p, {})
                    node[leaf] = _cell(cell.strip())
                row["_where"] = f"{path.name}:{line}"
                rows.append(row)
            return rows
    except FileNotFoundError as exc:
        raise ScenarioError(f"{path}: no such CSV file") from exc


def _cell(text: str) -> Any:
    if ";" in text:
        return [_cell(t.strip()) for t in text.split(";") if t.strip()]
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


# --- entries -------------------------------------------------------------------------------


def _where(row: dict, table: str, i: int) -> str:
    return row.get("_where") or f"[[{table}]] #{i + 1}" + (f" ({row['id']})" if "id" in row else "")


def _entry(row: dict, table: str, i: int, known: frozenset[str]) -> str:
    """Where an entry is (for messages), once its keys are known good."""
    where = _where(row, table, i)
    check_keys({k: v for k, v in row.items() if k != "_where"}, known, where)
    return where


def _need(row: dict, key: str, where: str) -> Any:
    if key not in row:
        raise ScenarioError(f"{where}: missing `{key}`")
    return row[key]


def _num(value: Any, where: str, key: str, lo: float | None = None, integer: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}: `{key}` must be a number, got {value!r}")
    if integer and value != int(value):
        raise ScenarioError(f"{where}: `{key}` must be a whole number, got {value!r}")
    if lo is not None and value < lo:
        raise ScenarioError(f"{where}: `{key}` must be ≥ {lo}, got {value!r}")
    if not math.isfinite(value):
        raise ScenarioError(f"{where}: `{key}` must be finite")
    return int(value) if integer else float(value)


def _run(t: dict) -> Run:
    w = "[run]"
    check_keys(t, RUN_KEYS, w)
    strategies = t.get("strategies", ["none"])
    if isinstance(strategies, str):
        strategies = [strategies]
    days = _num(t.get("days", 365), w, "days", 1, True)
    warmup = _num(t.get("warmup", 0), w, "warmup", 0, True)
    if warmup >= days:
        raise ScenarioError(f"{w}: warmup ({warmup}) must be shorter than days ({days})")
    return Run(
        days=days,
        warmup=warmup,
        replications=_num(t.get("replications", 20), w, "replications", 1, True),
        seed=_num(t.get("seed", 1), w, "seed", 0, True),
        strategies=tuple(str(s) for s in strategies),
        start_weekday=_num(t.get("start_weekday", 0), w, "start_weekday", 0, True) % 7,
        name=str(t.get("name", "scenario")),
    )


def _costs(t: dict) -> Costs:
    w = "[costs]"
    check_keys(t, COSTS_KEYS, w)
    return Costs(**{k: _num(t[k], w, k, 0) for k in Costs.__dataclass_fields__ if k in t})


def _network(t: dict) -> Network:
    w = "[network]"
    check_keys(t, NETWORK_KEYS, w)
    kw: dict[str, Any] = {}
    if "dc_days" in t:
        kw["dc_days"] = lead_time(t["dc_days"], w, "dc_days")
    if "lateral_days" in t:
        kw["lateral_days"] = lead_time(t["lateral_days"], w, "lateral_days")
    if "dc_cost" in t:
        kw["dc_cost"] = _num(t["dc_cost"], w, "dc_cost", 0)
    if "km_per_day" in t:
        kw["km_per_day"] = _num(t["km_per_day"], w, "km_per_day", 1e-9)
    return Network(**kw)


LIVE_KEYS = (
    "lookback_days",
    "default_source",
    "policy",
    "unmet",
    "timeout_s",
    "min_lead_time_obs",
)


def _live(t: dict) -> dict:
    """[live]: lookback_days (28), default_source (first DC, else first supplier), policy for
    SKUs the scenario does not list ({kind = "auto"}), unmet ("backorder"), timeout_s (10),
    min_lead_time_obs (the receipts central must have observed before its observed lead times
    replace the master's; 5)."""
    w = "[live]"
    check_keys(t, frozenset(LIVE_KEYS), w)
    out = dict(t)
    if "lookback_days" in t:
        out["lookback_days"] = _num(t["lookback_days"], w, "lookback_days", 1, True)
    if "min_lead_time_obs" in t:
        out["min_lead_time_obs"] = _num(t["min_lead_time_obs"], w, "min_lead_time_obs", 1, True)
    if "policy" in t:
        out["policy"] = policy(t["policy"], w)
    if t.get("unmet", "backorder") not in ("backorder", "lost"):
        raise ScenarioError(f'{w}: `unmet` must be "backorder" or "lost"')
    return out


def lead_time(value: Any, where: str, key: str = "lead_time") -> LeadTime:
    """`3`, or {dist="poisson", mean=3} | {dist="uniform", low=2, high=5} |
    {dist="choice", values=[2, 9], probs=[0.9, 0.1]} | {dist="fixed", days=3}."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return LeadTime("fixed", float(_num(value, where, key, 0, True)))
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: `{key}` must be a number of days or a table")
    dist = value.get("dist", "fixed")
    if dist not in LEAD_TIME_KEYS:
        raise ScenarioError(f"{where}: `{key}.dist` must be fixed, poisson, uniform or choice")
    check_keys(value, LEAD_TIME_KEYS[dist], f"{where}: `{key}`")
    if dist == "fixed":
        return LeadTime(
            "fixed", float(_num(value.get("days", value.get("mean", 0)), where, key, 0))
        )
    if dist == "poisson":
        return LeadTime("poisson", _num(_need(value, "mean", where), where, f"{key}.mean", 0))
    if dist == "uniform":
        lo = _num(_need(value, "low", where), where, f"{key}.low", 0, True)
        hi = _num(_need(value, "high", where), where, f"{key}.high", lo, True)
        return LeadTime("uniform", (lo + hi) / 2, low=lo, high=hi)
    vals = tuple(_num(v, where, f"{key}.values", 0, True) for v in value.get("values", []))
    probs = tuple(float(p) for p in value.get("probs", [1.0 / max(len(vals), 1)] * len(vals)))
    if not vals or len(vals) != len(probs) or abs(sum(probs) - 1) > 1e-6:
        raise ScenarioError(f"{where}: `{key}` choice needs values and probs summing to 1")
    return LeadTime(
        "choice", sum(v * p for v, p in zip(vals, probs, strict=True)), 0, 0, vals, probs
    )


def _supplier(r: dict, i: int) -> Supplier:
    w = _entry(r, "supplier", i, SUPPLIER_KEYS)
    lt = lead_time(r.get("lead_time", 0), w)
    rel = _num(r.get("reliability", 1.0), w, "reliability", 0)
    if rel > 1:
        raise ScenarioError(f"{w}: `reliability` is a probability (0..1)")
    default_late = LeadTime("fixed", float(max(1, round(lt.mean))))
    return Supplier(
        id=str(_need(r, "id", w)),
        lead_time=lt,
        reliability=rel,
        late_days=lead_time(r["late_days"], w, "late_days") if "late_days" in r else default_late,
        unit_cost=_num(r.get("unit_cost", 0.0), w, "unit_cost", 0),
        backup=str(r["backup"]) if r.get("backup") else None,
    )


def _site(r: dict, i: int) -> Site:
    w = _entry(r, "site", i, SITE_KEYS)
    kind = str(r.get("kind", "store"))
    if kind not in SITE_KINDS:
        raise ScenarioError(f"{w}: `kind` must be one of {', '.join(SITE_KINDS)}")
    return Site(
        id=str(_need(r, "id", w)),
        source=str(_need(r, "source", w)),
        kind=kind,
        demand_scale=_num(r.get("demand_scale", 1.0), w, "demand_scale", 0),
        holding_factor=_num(r.get("holding_factor", 1.0), w, "holding_factor", 0),
        x=_num(r["x"], w, "x") if "x" in r else None,
        y=_num(r["y"], w, "y") if "y" in r else None,
        lateral=bool(r["lateral"]) if "lateral" in r else None,
    )


def _demand(t: Any, w: str, promotions: Any) -> Demand:
    if not isinstance(t, dict):
        raise ScenarioError(f'{w}: `demand` must be a table like {{dist = "poisson", mean = 6}}')
    check_keys(t, DEMAND_KEYS, f"{w}: `demand`")
    dist = t.get("dist", "poisson")
    if dist not in DEMAND_DISTS:
        raise ScenarioError(f"{w}: `demand.dist` must be one of {', '.join(DEMAND_DISTS)}")
    mean = _num(_need(t, "mean", w), w, "demand.mean", 0)
    sd = _num(t["sd"], w, "demand.sd", 0) if "sd" in t else None
    if dist == "normal" and sd is None:
        raise ScenarioError(f"{w}: normal demand needs `sd`")
    if dist == "negbin" and (sd is None or sd * sd <= mean):
        raise ScenarioError(
            f"{w}: negbin demand needs `sd` with sd² > mean (overdispersed); "
            "use poisson when variance ≈ mean"
        )
    weekly = t.get("weekly", [1.0] * 7)
    if not isinstance(weekly, list) or len(weekly) != 7:
        raise ScenarioError(f"{w}: `demand.weekly` must list 7 multipliers, Monday first")
    weekly_t = tuple(_num(x, w, "demand.weekly", 0) for x in weekly)
    promos = tuple(_promotion(p, w) for p in (promotions or []))
    return Demand(dist=dist, mean=mean, sd=sd, weekly=weekly_t, promotions=promos)


def _promotion(p: Any, w: str) -> Promotion:
    if not isinstance(p, dict):
        raise ScenarioError(f"{w}: `promotions` lists tables {{start = …, days = …, factor = …}}")
    check_keys(p, PROMOTION_KEYS, f"{w}: `promotions`")
    return Promotion(
        start=_num(_need(p, "start", w), w, "promotions.start", 0, True),
        days=_num(_need(p, "days", w), w, "promotions.days", 1, True),
        factor=_num(_need(p, "factor", w), w, "promotions.factor", 0),
    )


def policy(t: Any, w: str, key: str = "policy") -> Policy:
    """`{kind = "sS", s = 4, S = 10}`; any level may be given in days of cover (`S_days = 5`)."""
    if not isinstance(t, dict) or "kind" not in t:
        raise ScenarioError(f"{w}: `{key}` must be a table with a `kind`")
    kind = t["kind"]
    if kind not in POLICY_KINDS:
        raise ScenarioError(f"{w}: `{key}.kind` must be one of {', '.join(POLICY_KINDS)}")
    params = tuple(sorted((k, _num(v, w, f"{key}.{k}")) for k, v in t.items() if k != "kind"))
    pol = Policy(kind, params)
    problem = policy_problem(pol)
    if problem:
        raise ScenarioError(f"{w}: `{key}`: {problem}")
    return pol


def policy_problem(pol: Policy) -> str | None:
    """Why a policy's parameters are unusable, or None (the formulas are in engine/policies)."""
    have = {k for k, _ in pol.params}
    levels = POLICY_LEVELS[pol.kind]
    for name in levels:
        if (name in have) == (f"{name}_days" in have):
            return f"{pol.kind} needs exactly one of `{name}` or `{name}_days`"
    allowed = set(POLICY_OPTIONAL) | {n for x in levels for n in (x, f"{x}_days")}
    extra = have - allowed
    if extra:
        return f"{pol.kind} does not take {', '.join(sorted(extra))}"
    p = dict(pol.params)
    review = p.get("R", p.get("review", 1))
    if review < 1 or review != int(review):
        return "the review period must be a whole number of days ≥ 1"
    if pol.kind == "rQ" and p.get("Q", 1) < 1:
        return "Q must be at least 1"
    if pol.kind == "sS" and "s" in p and "S" in p and p["S"] <= p["s"]:
        return "S must exceed s"
    if pol.kind == "minmax" and "min" in p and "max" in p and p["max"] < p["min"]:
        return "max must be at least min"
    return None


def _sku(r: dict, i: int) -> Sku:
    w = _entry(r, "sku", i, SKU_KEYS)
    unmet = r.get("unmet", "backorder")
    if unmet not in ("backorder", "lost"):
        raise ScenarioError(f'{w}: `unmet` must be "backorder" or "lost"')
    opt = {k: _num(r[k], w, k, 0) for k in ("holding", "backorder", "lost_sale", "order") if k in r}
    return Sku(
        id=str(_need(r, "id", w)),
        demand=_demand(_need(r, "demand", w), w, r.get("promotions")),
        policy=policy(r.get("policy", {"kind": "auto"}), w),
        dc_policy=policy(r["dc_policy"], w, "dc_policy") if "dc_policy" in r else None,
        unmet=unmet,
        **opt,
    )


def _lane_key(value: Any, w: str) -> tuple[str, str]:
    if isinstance(value, str) and "->" in value:
        a, b = (s.strip() for s in value.split("->", 1))
        return a, b
    if isinstance(value, list) and len(value) == 2:
        return str(value[0]), str(value[1])
    raise ScenarioError(f'{w}: a lane is written "FROM->TO" or ["FROM", "TO"]')


def _lane(r: dict, i: int) -> Lane:
    w = _entry(r, "lane", i, LANE_KEYS)
    return Lane(
        src=str(_need(r, "from", w)),
        dst=str(_need(r, "to", w)),
        days=lead_time(_need(r, "days", w), w, "days"),
        cost=_num(r.get("cost", 0.0), w, "cost", 0),
        port=str(r["port"]) if r.get("port") else None,
    )


def _disruption(r: dict, i: int) -> Disruption:
    w = f"[[disruption]] #{i + 1}"
    if not isinstance(r, dict):
        raise ScenarioError(f"{w}: must be a table ([[disruption]])")
    targets = [k for k in DISRUPTION_TARGETS if k in r]
    if len(targets) != 1:
        raise ScenarioError(f"{w}: name exactly one of supplier, lane, port or surge")
    kind = "surge" if "surge" in r else "markov" if "markov" in r else "outage"
    check_keys(r, DISRUPTION_KEYS[kind] | {targets[0]}, w)
    start = _num(r.get("start", 0), w, "start", 0, True)
    if "surge" in r:
        return Disruption(
            kind="surge",
            start=start,
            days=_num(_need(r, "days", w), w, "days", 1, True),
            factor=_num(r["surge"], w, "surge", 0),
            skus=tuple(str(s) for s in r.get("skus", [])),
            sites=tuple(str(s) for s in r.get("sites", [])),
        )
    target: dict[str, Any] = {}
    if "supplier" in r:
        target["supplier"] = str(r["supplier"])
    elif "lane" in r:
        target["lane"] = _lane_key(r["lane"], w)
    else:
        target["port"] = str(r["port"])
    if "markov" in r:
        m = r["markov"]
        if not isinstance(m, dict):
            raise ScenarioError(f"{w}: `markov` is a table {{alpha = …, beta = …}}")
        check_keys(m, MARKOV_KEYS, f"{w}: `markov`")
        alpha = _num(_need(m, "alpha", w), w, "markov.alpha", 0)
        beta = _num(_need(m, "beta", w), w, "markov.beta", 0)
        if alpha > 1 or beta > 1:
            raise ScenarioError(f"{w}: markov alpha and beta are daily probabilities (0..1)")
        return Disruption(kind="markov", start=start, alpha=alpha, beta=beta, **target)
    return Disruption(
        kind="outage", start=start, days=_num(_need(r, "days", w), w, "days", 1, True), **target
    )


# --- cross-checks --------------------------------------------------------------------------


def validate(s: Scenario) -> None:
    """Ids unique, every reference resolves, DCs form a tree fed by suppliers."""
    sup_ids = [x.id for x in s.suppliers]
    site_ids = [x.id for x in s.sites]
    sku_ids = [x.id for x in s.skus]
    for name, ids in (("supplier", sup_ids), ("site", site_ids), ("sku", sku_ids)):
        dup = _dups(ids)
        if dup:
            raise ScenarioError(f"duplicate {name} id(s): {', '.join(sorted(dup))}")
    if set(sup_ids) & set(site_ids):
        raise ScenarioError("a supplier and a site share an id; ids must be unique across both")
    if not s.sites:
        raise ScenarioError("the scenario has no sites")
    if not s.skus:
        raise ScenarioError("the scenario has no SKUs")
    by_id = {x.id: x for x in s.sites}
    for site in s.sites:
        if site.source in by_id:
            if by_id[site.source].kind != "dc":
                raise ScenarioError(f"site {site.id}: source {site.source} is not a DC")
        elif site.source not in sup_ids:
            raise ScenarioError(f"site {site.id}: source {site.source!r} is no supplier or site")
    for site in s.sites:  # no cycles through DCs
        seen, cur = {site.id}, site
        while cur.source in by_id:
            cur = by_id[cur.source]
            if cur.id in seen:
                raise ScenarioError(f"sites {', '.join(sorted(seen))} source from each other")
            seen.add(cur.id)
    for sup in s.suppliers:
        if sup.backup and sup.backup not in sup_ids:
            raise ScenarioError(f"supplier {sup.id}: backup {sup.backup!r} is no supplier")
        if sup.backup == sup.id:
            raise ScenarioError(f"supplier {sup.id}: cannot be its own backup")
    known = set(sup_ids) | set(site_ids)
    for lane in s.lanes:
        for end in (lane.src, lane.dst):
            if end not in known:
                raise ScenarioError(f"lane {lane.src}->{lane.dst}: unknown end {end!r}")
    ports = {lane.port for lane in s.lanes if lane.port}
    sku_set, site_set = set(sku_ids), set(site_ids)
    for i, d in enumerate(s.disruptions):
        w = f"[[disruption]] #{i + 1}"
        if d.supplier and d.supplier not in sup_ids:
            raise ScenarioError(f"{w}: unknown supplier {d.supplier!r}")
        if d.lane and not all(e in known for e in d.lane):
            raise ScenarioError(f"{w}: lane {d.lane[0]}->{d.lane[1]} has an unknown end")
        if d.port and d.port not in ports:
            raise ScenarioError(f"{w}: no [[lane]] goes through port {d.port!r}")
        for sku in d.skus:
            if sku not in sku_set:
                raise ScenarioError(f"{w}: unknown sku {sku!r}")
        for site in d.sites:
            if site not in site_set:
                raise ScenarioError(f"{w}: unknown site {site!r}")


def _dups(ids: list[str]) -> set[str]:
    seen: set[str] = set()
    dup: set[str] = set()
    for x in ids:
        (dup if x in seen else seen).add(x)
    return dup
