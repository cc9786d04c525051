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
from .config import PlanningConfig, category_arrays
from .forecast import ForecastResult, forecast_history
from .history import History, HistorySummary, day_date, inbound_over, stock_ages, summarise, weekday
from .kpis import KpiTable, compute_kpis
from .policy import PolicyResult, compute_policy, z_value
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
    available: np.ndarray
    alert_position: np.ndarray
    inventory_position: np.ndarray
    tiers: np.ndarray  # int8 current alert tier per series
    alert_changes: AlertChanges | None
    transfers: TransferSuggestions | None
    proposals: Proposals
    slow_movers: SlowMovers
    stock_age: np.ndarray
    kpis: dict[str, KpiTable]
    timings: dict[str, float] = field(default_factory=dict)


def _series_param(values: np.ndarray, cat_of_series: np.ndarray) -> np.ndarray:
    return values[cat_of_series]


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
    n_sites = network.n_sites
    n = network.n_series
    if history.n_series != n:
        raise ValueError("history and network disagree on the number of series")
    timings: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now_t = time.perf_counter()
        timings[name] = now_t - t
        t = now_t

    # forecast and history figures
    fc = forecast_history(history, cfg.forecast)
    lap("forecast")
    kpi_days = 7 * (cfg.kpi_weeks - 1) + int(weekday(history.today)) + 1
    summ = summarise(history, period_days=kpi_days, dow_weeks=cfg.dow_weeks)
    lap("history_summary")

    # per-series parameters from categories and master data
    ca = category_arrays(cfg, network.category_names)
    sku_of = np.arange(n) // n_sites
    cat = np.asarray(network.sku_category, np.int64)[sku_of]
    unit_cost = np.asarray(network.sku_unit_cost, np.float64)[sku_of]
    sup = np.asarray(network.sku_supplier, np.int64)[sku_of]
    sup_lead = np.asarray(network.supplier_lead_days, np.float64)
    lead = _series_param(ca.lead_days, cat)
    if sup_lead.size:
        known = (sup >= 0) & np.isfinite(sup_lead[np.maximum(sup, 0)])
        lead = np.where(known, sup_lead[np.maximum(sup, 0)], lead)
    lead_sd = 0.0
    if network.supplier_lead_sd is not None and sup_lead.size:
        sd = np.asarray(network.supplier_lead_sd, np.float64)[np.maximum(sup, 0)]
        lead_sd = np.where(sup >= 0, np.nan_to_num(sd), 0.0)
    review = _series_param(ca.review_days, cat)
    rate = fc.demand_over(7.0) / 7.0
    prot_demand = fc.demand_over(lead + review)
    pol = compute_policy(
        rate=rate,
        protection_demand=prot_demand,
        sigma=fc.sigma,
        dow_var=summ.dow_var,
        first_weekday=int(weekday(history.today + 1)),
        lead_days=lead,
        lead_sd=lead_sd,
        review_days=review,
        z=_series_param(z_value(ca.service_level), cat),
        ss_method=_series_param(ca.ss_method, cat),
        cover_days=_series_param(ca.cover_days, cat),
        order_cost=_series_param(ca.order_cost, cat),
        holding_rate=_series_param(ca.holding_rate, cat),
        unit_cost=unit_cost,
    )
    lap("policy")

    # positions and alerts
    available = np.asarray(stock.on_hand, np.float64) - np.asarray(stock.reserved, np.float64)
    due = stock.due_within_lead
    if due is None:
        due = np.asarray(stock.on_order, np.float64) + np.asarray(stock.in_transit, np.float64)
    apos = alert_position(stock.on_hand, stock.reserved, due)
    ip = inventory_position(available, stock.on_order, stock.in_transit)
    thresholds = (
        _series_param(ca.yellow, cat),
        _series_param(ca.orange, cat),
        _series_param(ca.red, cat),
        _series_param(ca.hysteresis, cat),
    )
    changes = None
    if book is not None:
        book.set_thresholds(*thresholds)
        changes = book.update(np.arange(n), apos, pol.safety_stock, now)
        cur_tiers = book.tier
    else:
        cur_tiers = tiers(apos, pol.safety_stock, np.zeros(n, np.int8), *thresholds)
    lap("alerts")

    # transfers before purchases
    suggestions = None
    pin = pout = 0.0
    if network.lanes is not None and n_sites > 1:
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
        suggestions = suggest_transfers(
            n_sites=n_sites,
            available=available,
            alert_pos=apos,
            position=ip,
            safety_stock=pol.safety_stock,
            target=pol.order_up_to,
            rate=rate,
            purchase_lead=lead,
            sku_unit_cost=network.sku_unit_cost,
            lanes=network.lanes,
            config=cfg.transfers,
            freeze=masks,
        )
        pin, pout = suggestions.planned(n)
    lap("transfers")

    # purchase proposals on the position including planned transfers
    pack = _series_param(ca.pack_size, cat)
    if network.sku_pack_size is not None:
        own = np.asarray(network.sku_pack_size, np.float64)[sku_of]
        pack = np.where(own > 0, own, pack)
    moq = _series_param(ca.moq, cat)
    if network.sku_moq is not None:
        own = np.asarray(network.sku_moq, np.float64)[sku_of]
        moq = np.where(own > 0, own, moq)
    props = propose(
        kind=_series_param(ca.policy, cat),
        available=available + pin - pout,
        position=ip + pin - pout,
        reorder_point=pol.reorder_point,
        lot=pol.eoq,
        order_up_to=pol.order_up_to,
        min_level=pol.min_level,
        max_level=pol.max_level,
        pack_size=pack,
        moq=moq,
        supplier=sup,
        unit_cost=unit_cost,
    )
    lap("proposals")

    # slow movers
    mean_age, band_qty = stock_ages(history, stock.on_hand)
    slow = find_slow_movers(
        n_sites=n_sites,
        on_hand=stock.on_hand,
        unit_cost=unit_cost,
        days_since_demand=summ.days_since_demand,
        velocity_recent=summ.velocity_recent,
        velocity_base=summ.velocity_base,
        stock_age=mean_age,
        rate=rate,
        slow_days=_series_param(ca.slow_days, cat),
        velocity_drop_min=_series_param(ca.velocity_drop, cat),
        min_stock_age=_series_param(ca.min_stock_age_days, cat),
    )
    lap("slow_movers")

    kpis = compute_kpis(
        n_sites=n_sites,
        site_names=network.site_names,
        category_names=network.category_names,
        sku_category=network.sku_category,
        unit_cost=unit_cost,
        on_hand=np.asarray(stock.on_hand, np.float64),
        available=available,
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
        lead_days=lead,
        available=available,
        alert_position=apos,
        inventory_position=ip,
        tiers=cur_tiers,
        alert_changes=changes,
        transfers=suggestions,
        proposals=props,
        slow_movers=slow,
        stock_age=mean_age,
        kpis=kpis,
        timings=timings,
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
