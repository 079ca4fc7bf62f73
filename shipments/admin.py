from django.contrib import admin

from .models import CargoType


@admin.register(CargoType)
class CargoTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "unit", "active"]
    list_filter = ["category", "unit", "active"]
    search_fields = ["code", "name"]
