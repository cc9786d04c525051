"""The full planning pass over arrays: forecast → policy → alerts → transfers → proposals →
slow movers → KPIs, for every SKU × site at once.

Inputs are plain arrays so central's engine can hand over its state without copies of
objects: series are numbered ``sku_index * n_sites + site_index`` (history.series_of).
`plan` is pure apart from the AlertBook it may update; `refresh_alerts` is the incremental path
for a batch of movements (only the touched series).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .alerts import AlertBook, AlertChanges, alert_position, tiers
from .config import CategoryArrays, PlanningConfig, category_arrays
from .forecast import ForecastResult, forecast_history
from .history import History, day_date, weekday
from .history_summary import HistorySummary, days_idle, inbound_over, stock_ages, summarise
from .kpis import KpiTable, compute_kpis
from .policy import LeadTimes, PolicyResult, compute_policy, z_value
from .proposals import Proposals, inventory_position, propose
from .slow_movers import SlowMovers, find_slow_movers
from .transfers import Lanes, TransferSuggestions, freeze_masks, suggest_transfers


@dataclass
class Network:
    """Master data as arrays. Per SKU: category, unit cost, supplier (-1: none), optional pack
    size / MOQ (0: the category default). Per supplier: lead time in days (NaN: the category
    default) and its standard deviation. Per site: whether it is a DC."""

    sku_names: list[str]
    site_names: list[str]
    category_names: list[str]
    sku_category: np.ndarray
    sku_unit_cost: np.ndarray
    sku_supplier: np.ndarray
    supplier_names: list[str]
    supplier_lead_days: np.ndarray
    supplier_lead_sd: np.ndarray | None = None
    site_is_dc: np.ndarray | None = None
    sku_pack_size: np.ndarray | None = None
    sku_moq: np.ndarray | None = None
    lanes: Lanes | None = None
    #: Where each supplier's lead time came from (observed orders, master data), if known.
    lead_times: LeadTimes | None = None

    @property
    def n_sites(self) -> int:
        return len(self.site_names)

    @property
    def n_series(self) -> int:
        return len(self.sku_names) * self.n_sites


@dataclass
class StockState:
    """The engine's stock per series. `due_within_lead`: open PO and inbound transfer quantity
    expected within the series' lead time (None: all of on_order + in_transit counts)."""

    on_hand: np.ndarray
    reserved: np.ndarray
    on_order: np.ndarray
    in_transit: np.ndarray
    due_within_lead: np.ndarray | None = None
    requested: np.ndarray | None = None  # reservation quantity asked, over the KPI period
    filled: np.ndarray | None = None  # reservation quantity granted


@dataclass
class PlanResult:
    forecast: ForecastResult
    summary: HistorySummary
    policy: PolicyResult
    lead_days: np.ndarray
    lead_sd: np.ndarray  # float64 [n]: the lead time's standard deviation (0: fixed)
    available: np.ndarray
    alert_position: np.ndarray
    inventory_position: np.ndarray
    #: transfers this pass suggests into and out of each series (0.0 without any), folded into
    #: the position the proposals were computed on
    planned_in: np.ndarray | float
    planned_out: np.ndarray | float
    tiers: np.ndarray  # int8 current alert tier per series
    alert_changes: AlertChanges | None
    transfers: TransferSuggestions | None
    proposals: Proposals
    slow_movers: SlowMovers
    stock_age: np.ndarray
    kpis: dict[str, KpiTable]
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class _Series:
    """Per-series parameters from categories and master data (series = sku × n_sites + site)."""

    sku_of: np.ndarray  # int64 SKU index
    cat: np.ndarray  # int64 category index
    unit_cost: np.ndarray
    supplier: np.ndarray  # int64; -1: none
    lead: np.ndarray  # days: the supplier's, else the category default
    lead_sd: np.ndarray | float
    review: np.ndarray


@dataclass
class _Positions:
    available: np.ndarray  # on hand − reserved
    alert: np.ndarray  # available + due within the lead time
    inventory: np.ndarray  # available + everything on order or in transit


class _Laps:
    """Seconds per stage of a pass, as `PlanResult.timings` reports them."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self._t
        self._t = now


def plan(
    history: History,
    network: Network,
    stock: StockState,
    config: PlanningConfig | None = None,
    book: AlertBook | None = None,
    now: str | None = None,
) -> PlanResult:
    """Run the whole planning pass. With an AlertBook, alerts are updated in it and the
    changes returned (`alert_changes`); without, tiers are computed from scratch."""
    cfg = config or PlanningConfig()
    n = network.n_series
    if history.n_series != n:
        raise ValueError("history and network disagree on the number of series")
    lap = _Laps()
    fc = forecast_history(history, cfg.forecast)
    lap("forecast")
    kpi_days = 7 * (cfg.kpi_weeks - 1) + int(weekday(history.today)) + 1
    summ = summarise(history, period_days=kpi_days, dow_weeks=cfg.dow_weeks)
    lap("history_summary")
    ca = category_arrays(cfg, network.category_names)
    ser = _series(network, ca)
    rate = fc.demand_over(7.0) / 7.0
    pol = _policy(fc, summ, history.today, ser, ca, rate)
    lap("policy")
    pos = _positions(stock)
    cur_tiers, changes = _alerts(pos.alert, pol.safety_stock, ca, ser, book, now)
    lap("alerts")
    suggestions = _transfers(history, network, cfg, pos, pol, rate, ser)
    pin, pout = (0.0, 0.0) if suggestions is None else suggestions.planned(n)
    lap("transfers")
    props = _proposals(network, ca, ser, pos, pol, pin, pout)
    lap("proposals")
    mean_age, band_qty = stock_ages(history, stock.on_hand)
    idle = days_idle(history, summ.days_since_demand)
    slow = _slow_movers(network, ca, ser, stock, idle, summ, mean_age, rate)
    lap("slow_movers")
    kpis = compute_kpis(
        n_sites=network.n_sites,
        site_names=network.site_names,
        category_names=network.category_names,
        sku_category=network.sku_category,
        unit_cost=ser.unit_cost,
        on_hand=np.asarray(stock.on_hand, np.float64),
        available=pos.available,
        rate=rate,
        sold=summ.sold,
        outbound=summ.outbound,
        inbound=inbound_over(history, cfg.kpi_weeks),
        band_qty=band_qty,
        period_days=kpi_days,
        alerts_closed=None if book is None else book.closed,
        alerts_false=None if book is None else book.false,
        requested=stock.requested,
        filled=stock.filled,
    )
    lap("kpis")
    return PlanResult(
        forecast=fc,
        summary=summ,
        policy=pol,
        lead_days=ser.lead,
        lead_sd=np.broadcast_to(np.asarray(ser.lead_sd, np.float64), (n,)),
        available=pos.available,
        alert_position=pos.alert,
        inventory_position=pos.inventory,
        planned_in=pin,
        planned_out=pout,
        tiers=cur_tiers,
        alert_changes=changes,
        transfers=suggestions,
        proposals=props,
        slow_movers=slow,
        stock_age=mean_age,
        kpis=kpis,
        timings=lap.timings,
    )


def _series(network: Network, ca: CategoryArrays) -> _Series:
    """Each series' category, cost, supplier and lead time (the supplier's when master data
    knows it, else the category's)."""
    sku_of = np.arange(network.n_series) // network.n_sites
    cat = np.asarray(network.sku_category, np.int64)[sku_of]
    sup = np.asarray(network.sku_supplier, np.int64)[sku_of]
    sup_lead = np.asarray(network.supplier_lead_days, np.float64)
    lead = ca.lead_days[cat]
    if sup_lead.size:
        known = (sup >= 0) & np.isfinite(sup_lead[np.maximum(sup, 0)])
        lead = np.where(known, sup_lead[np.maximum(sup, 0)], lead)
    lead_sd: np.ndarray | float = 0.0
    if network.supplier_lead_sd is not None and sup_lead.size:
        sd = np.asarray(network.supplier_lead_sd, np.float64)[np.maximum(sup, 0)]
        lead_sd = np.where(sup >= 0, np.nan_to_num(sd), 0.0)
    return _Series(
        sku_of=sku_of,
        cat=cat,
        unit_cost=np.asarray(network.sku_unit_cost, np.float64)[sku_of],
        supplier=sup,
        lead=lead,
        lead_sd=lead_sd,
        review=ca.review_days[cat],
    )


def _policy(
    fc: ForecastResult,
    summ: HistorySummary,
    today: int,
    ser: _Series,
    ca: CategoryArrays,
    rate: np.ndarray,
) -> PolicyResult:
    """Safety stock, reorder point, order quantities from the forecast over lead + review."""
    cat = ser.cat
    return compute_policy(
        rate=rate,
        protection_demand=fc.demand_over(ser.lead + ser.review),
        sigma=fc.sigma,
        dow_var=summ.dow_var,
        first_weekday=int(weekday(today + 1)),
        lead_days=ser.lead,
        lead_sd=ser.lead_sd,
        review_days=ser.review,
        z=z_value(ca.service_level)[cat],
        ss_method=ca.ss_method[cat],
        cover_days=ca.cover_days[cat],
        order_cost=ca.order_cost[cat],
        holding_rate=ca.holding_rate[cat],
        unit_cost=ser.unit_cost,
    )


def _positions(stock: StockState) -> _Positions:
    available = np.asarray(stock.on_hand, np.float64) - np.asarray(stock.reserved, np.float64)
    due = stock.due_within_lead
    if due is None:
        due = np.asarray(stock.on_order, np.float64) + np.asarray(stock.in_transit, np.float64)
    return _Positions(
        available=available,
        alert=alert_position(stock.on_hand, stock.reserved, due),
        inventory=inventory_position(available, stock.on_order, stock.in_transit),
    )


def _alerts(
    position: np.ndarray,
    safety_stock: np.ndarray,
    ca: CategoryArrays,
    ser: _Series,
    book: AlertBook | None,
    now: str | None,
) -> tuple[np.ndarray, AlertChanges | None]:
    """(tier per series, changes): updated in the book when there is one, else from scratch
    with the thresholds as the book holds them (float32), so both ways agree."""
    cat = ser.cat
    thresholds = (ca.yellow[cat], ca.orange[cat], ca.red[cat], ca.hysteresis[cat])
    if book is None:
        as_book = (t.astype(np.float32) for t in thresholds)
        return tiers(position, safety_stock, np.zeros(position.size, np.int8), *as_book), None
    book.set_thresholds(*thresholds)
    changes = book.update(np.arange(position.size), position, safety_stock, now)
    return book.tier, changes


def _transfers(
    history: History,
    network: Network,
    cfg: PlanningConfig,
    pos: _Positions,
    pol: PolicyResult,
    rate: np.ndarray,
    ser: _Series,
) -> TransferSuggestions | None:
    """Transfers before purchases: surplus at one site to a site below safety stock (None
    without lanes or with a single site)."""
    n_sites = network.n_sites
    if network.lanes is None or n_sites <= 1:
        return None
    is_dc = np.zeros(n_sites, np.bool_) if network.site_is_dc is None else network.site_is_dc
    masks = freeze_masks(
        cfg.transfers.freeze,
        day_date(history.today),
        sku_names=network.sku_names,
        sku_category=network.sku_category,
        category_names=network.category_names,
        sku_unit_cost=network.sku_unit_cost,
        site_names=network.site_names,
        site_is_dc=is_dc,
    )
    return suggest_transfers(
        n_sites=n_sites,
        available=pos.available,
        alert_pos=pos.alert,
        position=pos.inventory,
        safety_stock=pol.safety_stock,
        target=pol.order_up_to,
        rate=rate,
        purchase_lead=ser.lead,
        sku_unit_cost=network.sku_unit_cost,
        lanes=network.lanes,
        config=cfg.transfers,
        freeze=masks,
    )


def _own_or_category(own: np.ndarray | None, sku_of: np.ndarray, default: np.ndarray):
    """A SKU's own pack size or MOQ where master data has one (> 0), else the category's."""
    if own is None:
        return default
    mine = np.asarray(own, np.float64)[sku_of]
    return np.where(mine > 0, mine, default)


def _proposals(
    network: Network,
    ca: CategoryArrays,
    ser: _Series,
    pos: _Positions,
    pol: PolicyResult,
    planned_in: np.ndarray | float,
    planned_out: np.ndarray | float,
) -> Proposals:
    """Purchase proposals on the position including the planned transfers."""
    cat = ser.cat
    return propose(
        kind=ca.policy[cat],
        available=pos.available + planned_in - planned_out,
        position=pos.inventory + planned_in - planned_out,
        reorder_point=pol.reorder_point,
        lot=pol.eoq,
        order_up_to=pol.order_up_to,
        min_level=pol.min_level,
        max_level=pol.max_level,
        pack_size=_own_or_category(network.sku_pack_size, ser.sku_of, ca.pack_size[cat]),
        moq=_own_or_category(network.sku_moq, ser.sku_of, ca.moq[cat]),
        supplier=ser.supplier,
        unit_cost=ser.unit_cost,
    )


def _slow_movers(
    network: Network,
    ca: CategoryArrays,
    ser: _Series,
    stock: StockState,
    idle: np.ndarray,
    summ: HistorySummary,
    mean_age: np.ndarray,
    rate: np.ndarray,
) -> SlowMovers:
    cat = ser.cat
    return find_slow_movers(
        n_sites=network.n_sites,
        on_hand=stock.on_hand,
        unit_cost=ser.unit_cost,
        days_since_demand=idle,
        velocity_recent=summ.velocity_recent,
        velocity_base=summ.velocity_base,
        stock_age=mean_age,
        rate=rate,
        slow_days=ca.slow_days[cat],
        velocity_drop_min=ca.velocity_drop[cat],
        min_stock_age=ca.min_stock_age_days[cat],
    )


def refresh_alerts(
    book: AlertBook,
    safety_stock: np.ndarray,
    touched: np.ndarray,
    on_hand: np.ndarray,
    reserved: np.ndarray,
    due_within_lead: np.ndarray,
    now: str | None = None,
) -> AlertChanges:
    """Incremental alert update after a batch of movements: re-evaluate only `touched`
    (unique series) with the engine's current stock (full per-series arrays) and the last
    plan's safety stock. Safety stock moves with the nightly / periodic full pass; the position
    moves with every scan."""
    touched = np.asarray(touched, np.int64)
    pos = alert_position(on_hand[touched], reserved[touched], due_within_lead[touched])
    return book.update(touched, pos, safety_stock[touched], now)
