"""Paper trading's documents, rendered after commit in a worker thread (RenderLater):
the whole journal as CSV for /ledger csv, the equity curve as a PNG for /pnl chart.
matplotlib is imported only when a chart is drawn: idle memory never pays for it."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime

from daemon.notify.rendering import register_renderer
from daemon.store import ledger
from daemon.store.database import snapshot_in_this_thread
from daemon.store.fields import decimal_text

JOURNAL_CSV = "paper.journal_csv"
EQUITY_CHART = "paper.equity_chart"
CSV_HEADER = ("transaction", "created_at", "memo", "account", "commodity", "amount")


def journal_csv(args: Mapping[str, str]) -> bytes:
    """Every posting, one row each, with its transaction's id, time and memo."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    with snapshot_in_this_thread():
        memos = ledger.transaction_heads()
        for batch in ledger.journal_batches():
            for transaction_id, account, commodity, amount in batch:
                created_at, memo = memos[transaction_id]
                writer.writerow((transaction_id, created_at.isoformat(" "), memo, account,
                                 commodity, decimal_text(amount)))  # fmt: skip
    return out.getvalue().encode()


def equity_chart(args: Mapping[str, str]) -> bytes:
    """The equity curve since `since` (ISO, UTC) as a PNG."""
    since = datetime.fromisoformat(args.get("since", "1970-01-01T00:00:00"))
    quote = args.get("quote", "")
    with snapshot_in_this_thread():
        history = ledger.equity_history(since)
    import matplotlib  # only here: ~30 MB that idle memory never pays

    matplotlib.use("Agg")
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.add_subplot()
    if history:
        # Plotting wants floats; the books stay exact, only this picture rounds.
        times = [at for at, _ in history]
        # matplotlib plots datetimes; its type stubs only list arrays and numbers
        axes.step(times, [float(v) for _, v in history], where="post")  # type: ignore[arg-type]
    else:
        axes.text(0.5, 0.5, "no equity snapshots yet", ha="center", va="center")
    axes.set_title(f"Paper equity ({quote})" if quote else "Paper equity")
    axes.grid(True, alpha=0.3)
    # Readable at any span (seconds in the sandbox, months on a VPS): concise dates, and
    # equity written out in full rather than as an offset from 1e4.
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.ticklabel_format(axis="y", style="plain", useOffset=False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


register_renderer(JOURNAL_CSV, journal_csv)
register_renderer(EQUITY_CHART, equity_chart)
