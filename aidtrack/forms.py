"""Form pieces every app's pages share: Bootstrap styling, filter forms, forms with lines, service errors."""

from django import forms
from django.core.exceptions import ValidationError

from .history import EditConflict

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class BootstrapMixin:
    """Bootstrap classes on every widget, and `is-invalid` on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput | forms.CheckboxInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["class"] = (
                    self.fields[name].widget.attrs.get("class", "") + " is-invalid"
                )


class FilterForm(forms.Form):
    """A filter form above a list or a dashboard: small controls, dates picked as dates, fields with an
    error marked. Also the form class of every FilterSet (`Meta.form`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.DateInput):
                widget.input_type, widget.format = "date", "%Y-%m-%d"
            small = "form-select form-select-sm" if isinstance(widget, forms.Select) else "form-control form-control-sm"
            widget.attrs["class"] = small

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["class"] += " is-invalid"


def posted_lines(request, prefix: str):
    """The POST data for a formset of lines; None on GET. Without JavaScript, "Add a line" posts the
    form back: its data then asks for one more blank line (a tampered count is left to the formset
    to refuse)."""
    data = request.POST if request.method == "POST" else None
    if data is not None and "add_line" in data:
        count = data.get(f"{prefix}-TOTAL_FORMS", "0")
        if count.isdigit():
            data = data.copy()
            data[f"{prefix}-TOTAL_FORMS"] = str(int(count) + 1)
    return data


def kept_line_forms(formset) -> list[forms.Form]:
    """The line forms that make up the record: existing or filled in, and not marked for removal."""
    return [
        form
        for form in formset.forms
        if not form.cleaned_data.get("DELETE") and (form.cleaned_data.get("id") or form.has_changed())
    ]


def apply_service_errors(error, form, line_forms=(), prefix: str | None = None) -> None:
    """Put a service's ValidationError next to the field or the line (`<prefix>-<i>-<field>`) it names."""
    for key, messages in error.message_dict.items():
        target, field = form, key
        if prefix and key.startswith(f"{prefix}-"):
            _, index, field = key.split("-", 2)
            if int(index) >= len(line_forms):  # a line the posted form did not show: say it on top
                target, field = form, None
            else:
                target = line_forms[int(index)]
        if field not in target.fields:
            field = None
        for message in messages:
            target.add_error(field, message)


def call_service(save, form, line_forms=(), prefix: str | None = None):
    """What `save()` (a service call) returns; or None, with its refusals put on `form`: errors by field
    and line (`apply_service_errors`), an edit conflict on top of the form."""
    try:
        return save()
    except ValidationError as error:
        apply_service_errors(error, form, line_forms, prefix)
    except EditConflict as conflict:
        form.add_error(None, conflict.message)
    return None
