"""The Russian interface: pages follow Accept-Language, numbers are formatted the Russian way (the API's
never are), and the committed catalogue is complete and compiled."""

import ast
import datetime
import gettext
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.conf import settings

from aidtrack import roles
from needs.services import AssessmentInput, NeedInput, assessment_create
from shipments import totals
from tests.factories import CargoTypeFactory, LocationFactory, UserFactory, make_shipment
from tests.services import skip_or_fail

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
NBSP = "\xa0"  # django/conf/locale/ru/formats.py: THOUSAND_SEPARATOR = "\xa0", DECIMAL_SEPARATOR = ","
PO = settings.BASE_DIR / "locale" / "ru" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@pytest.fixture
def delivered(officer):
    """1180.5 t (1500 stoves) delivered by road to Northtown, counted in the totals."""
    stoves = CargoTypeFactory(code="stove", name="Stoves", unit="pcs")
    place = LocationFactory(code="N-1", name="Northtown", level="settlement")
    shipment = make_shipment(
        by=officer,
        lines=[(stoves, Decimal("1500"), Decimal("1180.5"))],
        destination=place,
        status="delivered",
        dispatched_on=datetime.date(2020, 11, 16),
    )
    totals.refresh()
    return {"shipment": shipment, "cargo": stoves, "place": place}


def figure(html: str, testid: str) -> str:
    """The text shown in the element with this data-testid."""
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html)
    assert match, f"no {testid} in the page"
    return match.group(1).strip()


def test_overview_is_in_russian_with_russian_numbers(client, officer, delivered):
    client.force_login(officer)
    response = client.get("/", **RU)
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "ru"
    assert '<html lang="ru">' in html
    assert "<h1" in html and ">Обзор</h1>" in html
    assert "Доставлено всего" in html
    assert "Overview" not in html
    assert figure(html, "total-tonnes") == f"1{NBSP}180,500"
    assert figure(html, "road-tonnes") == f"1{NBSP}180,500"
    assert "1 отправка" in html


def test_english_stays_the_default(client, officer, delivered):
    client.force_login(officer)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Overview</h1>" in html
    assert figure(html, "total-tonnes") == "1,180.500"


def test_shipments_list_is_in_russian(client, officer, delivered):
    client.force_login(officer)
    html = client.get("/shipments/", **RU).content.decode()
    assert ">Отправки</h1>" in html
    assert "Зарегистрировать отправку" in html
    assert "Грузоотправитель" in html and "Пункт назначения" in html
    assert "Доставлено" in html  # the status
    assert f"1{NBSP}180,500" in html


def test_needs_dashboard_is_in_russian(client, officer, delivered):
    coordinator = UserFactory(organisation=officer.organisation, role=roles.COORDINATOR)
    assessment_create(
        by=coordinator,
        data=AssessmentInput(
            location=delivered["place"], sector="housing", assessed_on=datetime.date(2020, 11, 12),
            condition="severely_damaged", severity=4, people_affected=12500,
            needs=[NeedInput(cargo_type=delivered["cargo"], quantity=Decimal("2500"), priority="critical")],
        ),
    )  # fmt: skip
    client.force_login(officer)
    response = client.get("/needs/", **RU)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Потребности и обеспеченность" in html
    assert "Обеспеченность: сначала наибольший дефицит" in html
    assert "Частично обеспечено" in html
    assert figure(html, "people-affected") == f"12{NBSP}500"
    assert f"1{NBSP}500 / 2{NBSP}500" in html  # delivered / needed, in the cargo type's unit


def test_the_api_never_formats_numbers_for_the_locale(client, officer, delivered):
    client.force_login(officer)
    body = client.get("/api/v1/totals/", **RU).json()
    assert body["total"]["tonnes_delivered"] == "1180.500"


# --- the catalogue ---------------------------------------------------------------------------------


def po_entries(path=PO) -> list[dict]:
    """The entries of a .po file: msgid, msgid_plural, msgstr (a list: one item per plural form), flags."""
    entries, entry, key = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry if entry is not None else {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(key, int):
                entry["msgstr"][key] += value
            else:
                entry[key] += value
        else:
            name, _, quoted = line.partition(" ")
            value = ast.literal_eval(quoted)
            plural = re.fullmatch(r"msgstr\[(\d+)\]", name)
            key = int(plural.group(1)) if plural else (0 if name == "msgstr" else name)
            if isinstance(key, int):
                entry["msgstr"][key] = value
            else:
                entry[key] = value
    for entry in entries:
        entry["msgstr"] = [entry["msgstr"][i] for i in sorted(entry["msgstr"])]
    return entries


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = po_entries()
    header, messages = entries[0], entries[1:]
    assert header["msgid"] == ""
    assert "Language: ru\n" in header["msgstr"][0]
    assert "nplurals=4;" in header["msgstr"][0]
    assert len(messages) > 500
    untranslated = [e["msgid"] for e in messages if not all(e["msgstr"])]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []
    wrong_forms = [e["msgid"] for e in messages if "msgid_plural" in e and len(e["msgstr"]) != 4]
    assert wrong_forms == []


def test_translations_keep_every_placeholder():
    broken = []
    for entry in po_entries()[1:]:
        wanted = set(PLACEHOLDER.findall(entry["msgid"])) | set(PLACEHOLDER.findall(entry.get("msgid_plural", "")))
        broken += [(entry["msgid"], text) for text in entry["msgstr"] if set(PLACEHOLDER.findall(text)) != wanted]
    assert broken == []


def test_the_committed_mo_matches_the_po():
    """The .mo is committed (pages are Russian without gettext installed); it must not be stale."""
    with MO.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    stale = []
    for entry in po_entries()[1:]:
        if "msgid_plural" in entry:
            shown = [catalogue.ngettext(entry["msgid"], entry["msgid_plural"], n) for n in (1, 2, 5)]
            expected = entry["msgstr"][:3]
        elif "msgctxt" in entry:
            shown, expected = catalogue.pgettext(entry["msgctxt"], entry["msgid"]), entry["msgstr"][0]
        else:
            shown, expected = catalogue.gettext(entry["msgid"]), entry["msgstr"][0]
        if shown != expected:
            stale.append(entry["msgid"])
    assert stale == []


def test_msgfmt_accepts_the_catalogue():
    if not shutil.which("msgfmt"):
        skip_or_fail("gettext (msgfmt) is not installed")
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C", "PATH": shutil.which("msgfmt").rsplit("/", 1)[0]},
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+ translated messages\.", result.stderr.strip()), result.stderr


def test_units_are_written_in_the_pages_language():
    from django.utils import translation

    from aidtrack.templatetags.units import unit_symbol

    with translation.override("ru"):
        assert [unit_symbol(code) for code in ("t", "pcs", "m3")] == ["т", "шт.", "м³"]
    with translation.override("en"):
        assert [unit_symbol(code) for code in ("t", "pcs", "m3")] == ["t", "pcs", "m³"]
    assert unit_symbol("unknown") == "unknown"
