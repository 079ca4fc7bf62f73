"""Cargo catalogue, shipments (waybills) and their cargo lines."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CargoType(models.Model):
    class Category(models.TextChoices):
        SHELTER = "shelter", _("Shelter and building materials")
        ENERGY = "energy", _("Energy and fuel")
        VEHICLES = "vehicles", _("Vehicles and equipment")
        HOUSEHOLD = "household", _("Household items")
        FOOD = "food", _("Food")
        HEALTH = "health", _("Health and medical")
        WASH = "wash", _("Water, sanitation and hygiene")
        OTHER = "other", _("Other")

    class Unit(models.TextChoices):
        TONNES = "t", _("tonnes")
        PIECES = "pcs", _("pieces")
        SETS = "sets", _("sets")
        VEHICLES = "vehicles", _("vehicles")
        LITRES = "litres", _("litres")
        CUBIC_METRES = "m3", _("cubic metres")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    unit = models.CharField(_("counting unit"), max_length=10, choices=Unit.choices)
    active = models.BooleanField(_("active"), default=True, help_text=_("Inactive types cannot be put on new lines."))

    class Meta:
        ordering = ["name"]
        verbose_name = _("cargo type")
        verbose_name_plural = _("cargo types")

    def __str__(self) -> str:
        return self.name
