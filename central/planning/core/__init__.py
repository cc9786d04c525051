"""Planning: forecasts, safety stock, tiered alerts, reorder proposals, transfers, slow movers,
KPIs — pure functions over numpy arrays, with Numba kernels for the per-series work.

Entry points for central:

* `load_history` / `History.add` — the demand history from the ledger, kept current;
* `plan` — the full pass over every SKU × site (returns a `PlanResult`);
* `AlertBook` + `refresh_alerts` — incremental alerts for the series a batch touched, and
  `save_changes` / `load_book` — the book's tables in the ledger file;
* `parse_config` — per-category policies from parsed TOML (central reads the file with
  `central.planning.settings.load_settings`).

See docs/planning.md for the formulas and choices.
"""

from .alert_tables import alert_counts, load_book, save_changes, schema
from .alerts import (
    AlertBook,
    AlertChange,
    AlertChanges,
    alert_position,
    due_within_lead,
)
from .config import CategoryPolicy, FreezeRule, PlanningConfig, parse_config
from .forecast import ForecastResult, forecast_history, select_models
from .history import (
    TYPE_CODE,
    History,
    epoch_day,
    load_history,
    series_of,
)
from .planner import Network, PlanResult, StockState, plan, refresh_alerts
from .policy import LeadTimeRules, LeadTimes, estimate_lead_times
from .proposals import DraftPO, Proposals
from .transfers import Lanes, TransferSuggestions

__all__ = [
    "TYPE_CODE",
    "AlertBook",
    "AlertChange",
    "AlertChanges",
    "CategoryPolicy",
    "DraftPO",
    "ForecastResult",
    "FreezeRule",
    "History",
    "Lanes",
    "LeadTimeRules",
    "LeadTimes",
    "Network",
    "PlanResult",
    "PlanningConfig",
    "Proposals",
    "StockState",
    "TransferSuggestions",
    "alert_counts",
    "alert_position",
    "due_within_lead",
    "epoch_day",
    "estimate_lead_times",
    "forecast_history",
    "load_book",
    "load_history",
    "parse_config",
    "plan",
    "refresh_alerts",
    "save_changes",
    "schema",
    "select_models",
    "series_of",
]
