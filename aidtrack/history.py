"""The change history of a record and its lines, as people read it (django-simple-history records).

A detail page builds its history from streams: the record's own history records and those of its
lines (cargo lines, needs). Each stream is diffed record by record against the previous record of
the same object, then all entries are merged newest first and their values labelled.
"""

from collections.abc import Callable, Iterable, Sequence

from django.utils.translation import gettext as _


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
