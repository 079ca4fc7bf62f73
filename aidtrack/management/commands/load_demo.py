from django.conf import settings
from django.core.management.base import BaseCommand

from aidtrack.demo import load_demo_users, load_reference_data
from needs.demo import load_demo_needs
from shipments.demo import load_demo_shipments


class Command(BaseCommand):
    help = "Load the demo response (idempotent: a second run changes nothing)."

    def handle(self, *args, **options):
        counts = load_reference_data()
        self.stdout.write(
            "Reference data: {organisations} organisations, {locations} locations, {cargo_types} cargo types.".format(
                **counts
            )
        )
        self.stdout.write(f"Shipments created now: {load_demo_shipments()}.")
        self.stdout.write(
            "Created now: {groups} working groups, {meetings} meetings, {assessments} assessments.".format(
                **load_demo_needs()
            )
        )
        if settings.DEBUG:
            created = load_demo_users()
            names = ", ".join(created) or "none"
            self.stdout.write(f"Demo users (password 'demo'): officer, coordinator, admin; created now: {names}.")
        else:
            self.stdout.write(self.style.WARNING("DEBUG is off: no demo users with a known password were created."))
