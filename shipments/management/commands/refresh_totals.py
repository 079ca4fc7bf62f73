from django.core.management.base import BaseCommand

from shipments import totals


class Command(BaseCommand):
    help = "Recompute the delivery totals marked stale (what the worker does after every change)."

    def handle(self, *args, **options):
        result = totals.refresh()
        self.stdout.write(f"Refreshed {result.cells} stale cells in {result.batches} batches.")
