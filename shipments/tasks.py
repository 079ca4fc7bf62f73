"""Celery entry points of shipments (the totals' own tasks are in shipments/totals/tasks.py)."""

import logging

from celery import shared_task

from . import services
from .selectors import shipments_with_wrong_figures

log = logging.getLogger(__name__)


@shared_task(name="shipments.check_shipment_figures")
def check_shipment_figures() -> int:
    """Nightly, after the totals' rebuild: every shipment's stored figures against a fresh sum of its
    records. Any that differ are logged as an error (a write went around the services) and rewritten;
    returns how many. Idempotent; one set-based statement each way (about 3.5 s at 1M cargo lines)."""
    wrong = shipments_with_wrong_figures()
    if not wrong:
        return 0
    log.error(
        "Stored figures differ from the records for %d shipment(s) (first: %s); rewriting them.",
        len(wrong), ", ".join(f"#{w.shipment_id} {w.stored} != {w.fresh}" for w in wrong[:5]),
    )  # fmt: skip
    return services.shipments_figures_recount()
