import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from aidtrack.models import Organisation, OrganisationAPIKey


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--expires: give a date as YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Issue a read-only API key to a partner organisation. The key is printed once, alone on the last "
        "line; only its hash is stored. Revoke it in the admin (Partner API keys)."
    )

    def add_arguments(self, parser):
        parser.add_argument("organisation", help="The organisation's code.")
        parser.add_argument("--name", help="What the key is for (50 characters at most). Default: '<code> API key'.")
        parser.add_argument(
            "--expires",
            metavar="YYYY-MM-DD",
            help="The last day the key works (in TIME_ZONE). Default: it does not expire.",
        )

    def handle(self, *args, organisation, name, expires, **options):
        org = Organisation.objects.filter(code=organisation).first()
        if org is None:
            raise CommandError(f"No organisation with the code {organisation!r}.")
        name = (name if name is not None else f"{org.code} API key").strip()
        if not name or len(name) > 50:
            raise CommandError("--name: give 1 to 50 characters.")
        expiry = None
        if expires is not None:
            last_day = _date(expires)
            if last_day < timezone.localdate():
                raise CommandError(f"--expires: {last_day} is in the past.")
            # Valid through the whole of the last day.
            expiry = timezone.make_aware(
                datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time())
            )
        api_key, key = OrganisationAPIKey.objects.create_key(organisation=org, name=name, expiry_date=expiry)
        until = f"until the end of {expires}" if expires else "without expiry"
        self.stdout.write(f"Key {api_key.prefix} '{name}' for {org.name} ({org.code}), {until}.")
        self.stdout.write("Store it now; it cannot be shown again. Send it as: Authorization: Api-Key <key>")
        self.stdout.write(key)
