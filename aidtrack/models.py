"""Core reference data: organisations, locations, users, partner API keys, and the worker heartbeat."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey


class Organisation(models.Model):
    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("Government body")
        COORDINATION = "coordination", _("Coordination body")
        UN_AGENCY = "un_agency", _("UN agency")
        RED_CROSS = "red_cross", _("Red Cross / Red Crescent")
        NGO = "ngo", _("Non-governmental organisation")
        OTHER = "other", _("Other")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2"))
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.short_name or self.name


class Location(models.Model):
    class Level(models.TextChoices):
        COUNTRY = "country", _("Country")
        REGION = "region", _("Region")
        DISTRICT = "district", _("District")
        SETTLEMENT = "settlement", _("Settlement")
        SITE = "site", _("Site")

    code = models.CharField(_("code"), max_length=32, unique=True, help_text=_("P-code style, e.g. NK-AS-01"))
    name = models.CharField(_("name"), max_length=200)
    alt_names = models.CharField(
        _("alternative names"), max_length=500, blank=True, help_text=_("Other spellings, separated by ';'")
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Far deeper than any administrative hierarchy: every walk up or down the tree stops there.
    MAX_DEPTH = 32

    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="location_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="location_longitude_range",
            ),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="location_not_own_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        super().clean()
        loop = self.loop_if_parent(self.parent_id) if self.pk else []
        if loop:
            raise ValidationError(
                {"parent": _("A place cannot lie under itself: this parent would make a loop (%(loop)s).")
                 % {"loop": " → ".join(loop)}}
            )  # fmt: skip

    def loop_if_parent(self, parent_id: int | None) -> list[str]:
        """The codes of the loop that `parent_id` as this place's parent would close, or [] if none.

        One query walks up from the parent, at most MAX_DEPTH steps (a loop already there elsewhere
        cannot hang it). PostgreSQL refuses such a write on its own too (trigger, migration 0004).
        """
        if parent_id is None:
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                """WITH RECURSIVE up(id, parent_id, n) AS (
                       SELECT id, parent_id, 0 FROM aidtrack_location WHERE id = %s
                       UNION ALL
                       SELECT l.id, l.parent_id, up.n + 1 FROM aidtrack_location l JOIN up ON l.id = up.parent_id
                       WHERE up.n < %s AND up.id <> %s
                   ) SELECT l.code, up.id FROM up JOIN aidtrack_location l ON l.id = up.id ORDER BY up.n""",
                [parent_id, self.MAX_DEPTH, self.pk],
            )
            chain = cursor.fetchall()
        if self.pk not in [location_id for _code, location_id in chain]:
            return []
        return [self.code, *(code for code, location_id in chain if location_id != self.pk), self.code]


class User(AbstractUser):
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class WorkerHeartbeat(models.Model):
    """One row, rewritten by a periodic task: proof that a Celery worker is consuming tasks."""

    name = models.CharField(max_length=50, unique=True)
    seen_at = models.DateTimeField()
    hostname = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class OrganisationAPIKey(AbstractAPIKey):
    """A partner agency's key to the read-only API. Only its hash is stored; the key is shown once."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="api_keys"
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("partner API key")
        verbose_name_plural = _("partner API keys")


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an `Idempotency-Key` header, replayed when it is repeated.

    Saved in the transaction that creates the object, so two concurrent repeats cannot both create it.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # sha256 of the method, path and canonical JSON body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotencykey_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key}"
