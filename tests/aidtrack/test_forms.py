"""The shared filter form: every filter above a list or a dashboard looks and behaves the same."""

import pytest
from django import forms

from aidtrack.forms import FilterForm
from needs.filters import NeedFilter
from shipments.filters import ShipmentFilter


class PeriodForm(FilterForm):
    date_from = forms.DateField(required=False)
    mode = forms.ChoiceField(choices=[("", "—"), ("road", "Road")], required=False)


def test_dates_are_date_pickers_and_controls_are_small():
    html = str(PeriodForm())
    assert 'type="date"' in html and "form-control form-control-sm" in html and "form-select form-select-sm" in html
    assert "is-invalid" not in html


def test_only_the_field_in_error_is_marked():
    form = PeriodForm({"date_from": "31/31/2020", "mode": "road"})
    assert not form.is_valid()
    assert 'class="form-control form-control-sm is-invalid"' in str(form["date_from"])
    assert "is-invalid" not in str(form["mode"])
    assert 'value="31/31/2020"' in str(form["date_from"])  # what was typed stays, to be corrected


def test_a_valid_date_is_shown_in_the_pickers_format():
    form = PeriodForm({"date_from": "2020-11-05"})
    assert form.is_valid() and 'value="2020-11-05"' in str(form["date_from"])


@pytest.mark.django_db
@pytest.mark.parametrize("filterset", [ShipmentFilter, NeedFilter])
def test_list_filters_use_it(filterset):
    assert isinstance(filterset({}).form, FilterForm)
