"""The change history of a record and its lines, as people read it (django-simple-history records).

A detail page builds its history from streams: the record's own history records and those of its
lines (cargo lines, needs). Each stream is diffed record by record against the previous record of
the same object, then all entries are merged newest first and their values labelled.
"""

from collections.abc import Callable, Iterable, Sequence

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def last_change(instance, lines: Sequence[tuple[type, str]] = ()):
    """The newest history record of `instance` or of one of its lines, None if it has none.

    `lines`: (line model, the field naming `instance`). A line changed on its own (an action item
    closed, a need cancelled) counts: it is the change that made the record's open forms stale.
    """
    newest = "-history_date", "-history_id"
    records = [instance.history.select_related("history_user").order_by(*newest).first()]
    for line_model, parent in lines:
        of_lines = line_model.history.filter(**{f"{parent}_id": instance.pk}).select_related("history_user")
        records.append(of_lines.order_by(*newest).first())
    return max((r for r in records if r is not None), key=lambda r: r.history_date, default=None)


class EditConflict(Exception):
    """The record changed since the caller read it; nothing was written.

    Says who changed it last and when (`last_change` of the record and its `lines`). Views put the
    message on the form, the API answers 409 with it.
    """

    text = gettext_lazy("%(who)s changed this record at %(when)s, after you opened it. Reload to see the changes.")

    def __init__(self, instance, lines: Sequence[tuple[type, str]] = ()):
        last = last_change(instance, lines)
        user = last.history_user if last else None
        self.changed_by = (user.get_full_name() or user.username) if user else None
        self.changed_at = timezone.localtime(last.history_date) if last else None
        self.message = self.text % {
            "who": self.changed_by or _("Someone"),
            "when": date_format(self.changed_at, "DATETIME_FORMAT") if self.changed_at else "?",
        }
        super().__init__(self.message)


def changes(
    records: Iterable, model, subject: Callable[[object], str], excluded_fields: Sequence[str] = ()
) -> list[dict]:
    """Entries for the history `records` of objects of `model`, oldest first per object.

    `records` must come ordered by object id, then `history_date`, `history_id` (or be of one object);
    `subject(record)` names what changed ("Shipment", "Line: Stoves").
    """
    entries = []
    last_of: dict[object, object] = {}
    for record in records:
        previous = last_of.get(record.id)
        delta = []
        if previous is not None and record.history_type == "~":
            diff = record.diff_against(previous, excluded_fields=list(excluded_fields))
            delta = [((model, c.field), c.old, c.new) for c in diff.changes]
        last_of[record.id] = record
        entries.append(_entry(record, subject(record), delta))
    return entries


def merged(*streams: list[dict]) -> list[dict]:
    """The entries of every stream, newest first, with values labelled."""
    entries = [entry for stream in streams for entry in stream]
    entries.sort(key=lambda e: e["when"], reverse=True)
    _label_values(entries)
    return entries


def _label_values(entries: list[dict]) -> None:
    """Show changed values as people read them: choice labels, names of related rows (one query a model)."""
    wanted: dict = {}
    for entry in entries:
        for (model, name), old, new in entry["changes"]:
            field = model._meta.get_field(name)
            if field.is_relation:
                wanted.setdefault(field.related_model, set()).update(v for v in (old, new) if v is not None)
    names = {
        related: {obj.pk: str(obj) for obj in related._default_manager.filter(pk__in=ids)}
        for related, ids in wanted.items()
    }
    for entry in entries:
        labelled = []
        for (model, name), old, new in entry["changes"]:
            field = model._meta.get_field(name)
            if field.is_relation:
                old, new = (names[field.related_model].get(v, v) if v is not None else None for v in (old, new))
            elif field.choices:
                choices = dict(field.choices)
                old, new = (choices.get(v, v) for v in (old, new))
            labelled.append((str(field.verbose_name), old, new))
        entry["changes"] = labelled


def _entry(record, subject: str, changes: list) -> dict:
    user = record.history_user
    return {
        "when": record.history_date,
        "who": (user.get_full_name() or user.username) if user else _("system"),
        "subject": subject,
        "action": {"+": _("created"), "~": _("changed"), "-": _("removed")}[record.history_type],
        "reason": record.history_change_reason or "",
        "changes": changes,
    }
