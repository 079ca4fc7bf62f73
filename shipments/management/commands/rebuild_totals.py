from django.core.management.base import BaseCommand

from shipments import totals


class Command(BaseCommand):
    help = "Recompute every delivery total from the shipment records (changes nothing when all is well)."

    def handle(self, *args, **options):
        result = totals.rebuild()
        self.stdout.write(f"Rebuilt delivery totals: {result.deleted} rows deleted, {result.inserted} inserted.")
