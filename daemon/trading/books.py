"""The paper books as the store holds them, read into the pure functions' inputs."""

from __future__ import annotations

from daemon.store import ledger
from daemon.trading.audit import Audit, audit, lot_totals

LEDGER_SCHEMA = 5  # the schema version that created the books


def audit_store(quote: str) -> Audit:
    """The audit of the books in the open database (the caller holds a transaction, so
    they are read as of one moment)."""
    lots = lot_totals(ledger.lot_amounts())
    return audit(ledger.journal_batches(), lots, quote, ledger.cash_moved(), ledger.balances())
