from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AidtrackConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "aidtrack"
    verbose_name = _("AidTrack core")
