"""Demo needs and coordination records of the response after the November 2020 ceasefire (shared/seeds).

Two coordination groups: the working group that assessed the region's infrastructure and the
interdepartmental humanitarian response centre with its member bodies. Their meetings include the
emergencies ministry head's working visit to Armenia and Azerbaijan, where he met each side's head of
government and emergency minister (attendees recorded by position). The group's assessments of
power, water, heating and housing list needs that the demo deliveries (shipments.demo) cover in part:
some in full, most partly, some not at all.

Written through needs.services by the demo loader account, so everything carries history. Idempotent:
a record that exists already (matched by its natural key) is left as it is.
"""

import datetime
from decimal import Decimal

from django.db import transaction

from aidtrack.models import Location, Organisation
from shipments.demo import demo_loader
from shipments.models import CargoType

from . import services
from .models import Assessment, Meeting, Membership, Need, WorkingGroup
from .services import ActionItemInput, AssessmentInput, MeetingInput, MembershipInput, NeedInput, WorkingGroupInput

D = datetime.date
INFRA, IHRC = "nk-infrastructure", "ihrc"

GROUPS = [
    {
        "code": IHRC,
        "name": "Interdepartmental Humanitarian Response Centre for Nagorno-Karabakh",
        "lead": "ru-ihrc",
        "area": "NK",
        "established_on": D(2020, 11, 13),
        "mandate": "Set up by presidential decree of 13 November 2020 to coordinate the federal bodies' "
        "humanitarian response in Nagorno-Karabakh: the return of refugees, the restoration of civilian "
        "infrastructure and the delivery of aid.",
        # organisation, person, position, role, from
        "members": [
            ("ru-ihrc", "", "Head of the centre", "chair", D(2020, 11, 13)),
            ("ru-emercom", "", "Deputy minister of emergency situations", "member", D(2020, 11, 13)),
            ("ru-mfa", "", "Director, CIS department", "member", D(2020, 11, 13)),
            ("ru-fsb", "", "Representative of the Federal Security Service", "member", D(2020, 11, 13)),
            ("ru-mod", "", "Representative of the peacekeeping contingent", "member", D(2020, 11, 13)),
            ("ru-minstroy", "", "Deputy minister of construction", "member", D(2020, 11, 13)),
            ("ru-minzdrav", "", "Representative of the health ministry", "member", D(2020, 11, 20)),
        ],
    },
    {
        "code": INFRA,
        "name": "Working group on the state of infrastructure of Nagorno-Karabakh",
        "lead": "ru-emercom",
        "area": "NK",
        "established_on": D(2020, 11, 17),
        "mandate": "Assess the state of power, water, heating and housing in the settlements of "
        "Nagorno-Karabakh and the needs of the population before winter; share the assessments with "
        "the partners that deliver aid.",
        "members": [
            ("ru-emercom", "", "Head of the EMERCOM operational group", "chair", D(2020, 11, 17)),
            ("ru-emercom-demining", "", "Commander of the demining unit", "member", D(2020, 11, 17)),
            ("ru-minstroy", "", "Head of the construction experts' team", "member", D(2020, 11, 17)),
            ("am-mes", "", "Deputy minister of emergency situations", "member", D(2020, 11, 17)),
            ("unhcr", "", "Shelter coordinator", "member", D(2020, 11, 19)),
            ("arcs", "", "Head of the Stepanakert branch", "member", D(2020, 11, 19)),
            ("icrc", "", "Head of the Stepanakert delegation", "observer", D(2020, 11, 17)),
        ],
    },
]

MINISTER = "Head of the Ministry of Emergency Situations of the Russian Federation"

# Action items: (description, owner, due, closed on or None for open, "done"/"dropped").
MEETINGS = [
    {
        "group": IHRC,
        "held_on": D(2020, 11, 14),
        "kind": "meeting",
        "title": "First meeting of the response centre",
        "place": "Moscow",
        "organisations": ["ru-ihrc", "ru-emercom", "ru-mfa", "ru-fsb", "ru-mod", "ru-minstroy"],
        "attendees": "Head of the centre, IHRC\nDeputy minister of emergency situations, EMERCOM\n"
        "Director, CIS department, MFA\nRepresentative, FSB\nRepresentative, Ministry of Defence",
        "minutes": "The centre divided the tasks of the federal bodies and agreed the first deliveries.",
        "decisions": "Deploy an EMERCOM rescue group and the demining unit to Stepanakert by 16 November.\n"
        "Send the first road convoy from the Noginsk rescue centre and trains from Rostov-on-Don.",
        "actions": [
            ("Agree the transit of road convoys and trains through Armenia", "ru-mfa", D(2020, 11, 15),
             D(2020, 11, 15), "done"),
            ("Form the first road convoy at the Noginsk rescue centre", "ru-emercom", D(2020, 11, 16),
             D(2020, 11, 16), "done"),
        ],
    },
    {
        "group": INFRA,
        "held_on": D(2020, 11, 18),
        "kind": "meeting",
        "title": "Working group: terms of reference and assessment plan",
        "place": "Stepanakert",
        "organisations": ["ru-emercom", "ru-minstroy", "am-mes", "icrc"],
        "attendees": "Head of the EMERCOM operational group, EMERCOM\nHead of the construction experts' team, "
        "Minstroy\nDeputy minister of emergency situations, MES Armenia\nHead of delegation, ICRC (observer)",
        "minutes": "The group agreed to assess power, water, heating and housing settlement by settlement, "
        "Stepanakert and Martuni first.",
        "decisions": "Assess power, water, heating and housing in the settlements reachable after demining.\n"
        "Heating of homes before winter comes first.",
        "actions": [
            ("Send assessment teams to Stepanakert and Martuni", "ru-emercom", D(2020, 11, 22),
             D(2020, 11, 21), "done"),
            ("Collect the number of returning households per settlement", "arcs", D(2020, 11, 25),
             D(2020, 11, 27), "done"),
            ("Share the list of shelter kits in stock", "unhcr", D(2020, 11, 25), D(2020, 11, 30), "dropped"),
        ],
    },
    {
        "group": INFRA,
        "held_on": D(2020, 11, 21),
        "kind": "field_visit",
        "title": "Field visit to the Martuni pumping station and Karmir Shuka",
        "place": "Martuni",
        "organisations": ["ru-emercom", "ru-emercom-demining", "ru-minstroy"],
        "attendees": "Head of the EMERCOM operational group, EMERCOM\nCommander of the demining unit, EMERCOM\n"
        "Head of the construction experts' team, Minstroy",
        "minutes": "The pumping station has no grid power; the access road was cleared of mines the day before.",
        "decisions": "Power the pumping station with diesel generators until the line is repaired.",
        "actions": [
            ("Clear the access road to the pumping station of explosive remnants", "ru-emercom-demining",
             D(2020, 11, 24), D(2020, 11, 23), "done"),
            ("Repair the power line to the Martuni pumping station", "ru-minstroy", D(2020, 12, 15), None, ""),
        ],
    },
    {
        "group": INFRA,
        "held_on": D(2020, 12, 4),
        "kind": "meeting",
        "title": "Working group: coverage of the needs assessed",
        "place": "Stepanakert",
        "organisations": ["ru-emercom", "ru-minstroy", "am-mes", "unhcr", "arcs", "icrc"],
        "attendees": "Head of the EMERCOM operational group, EMERCOM\nShelter coordinator, UNHCR\n"
        "Head of the Stepanakert branch, ARCS\nHead of delegation, ICRC (observer)",
        "minutes": "Stepanakert's power needs are met; Askeran, Chartar and Vank have received nothing yet.",
        "decisions": "Route the next trains' building materials to Chartar and Martakert.\n"
        "Stoves for Askeran and Vank in the next road convoy.",
        "actions": [
            ("Deliver building materials and household items to Chartar", "ru-emercom", D(2020, 12, 20), None, ""),
            ("Report the returning population of Vank", "arcs", None, None, ""),
        ],
    },
    # The working visit of the ministry's head: each side's head of government and emergency minister.
    {
        "group": IHRC,
        "held_on": D(2020, 12, 21),
        "kind": "official_visit",
        "title": "Working visit to Armenia: meeting with the Prime Minister",
        "place": "Yerevan",
        "organisations": ["ru-emercom", "am-gov"],
        "attendees": f"{MINISTER}\nPrime Minister of Armenia",
        "minutes": "The head of the ministry reported the deliveries by road and rail and the work of the "
        "demining unit; the main task is the early restoration of peaceful life in the region.",
        "decisions": "Continue the deliveries by rail through the Yerevan freight terminal.",
        "actions": [
            ("Keep the rail route through Armenia open for the winter deliveries", "am-gov", D(2021, 1, 31),
             D(2021, 1, 20), "done"),
        ],
    },
    {
        "group": IHRC,
        "held_on": D(2020, 12, 21),
        "kind": "official_visit",
        "title": "Working visit to Armenia: meeting with the Minister of Emergency Situations",
        "place": "Yerevan",
        "organisations": ["ru-emercom", "am-mes"],
        "attendees": f"{MINISTER}\nMinister of Emergency Situations of Armenia",
        "minutes": "The ministers agreed to exchange infrastructure assessments through the working group.",
        "decisions": "Share the working group's assessments with the Armenian ministry.",
        "actions": [
            ("Share the infrastructure assessments with MES Armenia", "ru-emercom", D(2020, 12, 28),
             D(2020, 12, 24), "done"),
        ],
    },
    {
        "group": IHRC,
        "held_on": D(2020, 12, 22),
        "kind": "official_visit",
        "title": "Working visit to Azerbaijan: meeting with the President",
        "place": "Baku",
        "organisations": ["ru-emercom", "az-presidency"],
        "attendees": f"{MINISTER}\nPresident of Azerbaijan",
        "minutes": "The head of the ministry presented the humanitarian operation and the demining work.",
        "decisions": "Coordinate demining of the roads used by aid convoys.",
        "actions": [],
    },
    {
        "group": IHRC,
        "held_on": D(2020, 12, 22),
        "kind": "official_visit",
        "title": "Working visit to Azerbaijan: meeting with the Minister of Emergency Situations",
        "place": "Baku",
        "organisations": ["ru-emercom", "az-mes"],
        "attendees": f"{MINISTER}\nMinister of Emergency Situations of Azerbaijan",
        "minutes": "The ministers discussed joint demining and the needs of the settlements before winter.",
        "decisions": "Exchange maps of cleared roads.",
        "actions": [
            ("Send the maps of cleared roads to the demining unit", "az-mes", D(2021, 1, 15), None, ""),
        ],
    },
]  # fmt: skip

# Assessments of the infrastructure working group. Needs: (cargo type, quantity, priority, needed by).
# Sized against the demo deliveries (quantities delivered on or after the assessment date):
ASSESSMENTS = [
    {  # generators: 8 by road + 4 trains of 20 to the hub = 88 of 80: met
        "location": "NK-ST-01",
        "facility": "Stepanakert 110 kV substation",
        "sector": "energy",
        "assessed_on": D(2020, 11, 18),
        "condition": "severely_damaged",
        "severity": 5,
        "people_affected": 50000,
        "summary": "Two of three transformers destroyed; hospitals and pumping stations run on generators.",
        "needs": [("diesel-generator", "80", "critical", D(2020, 12, 1))],
    },
    {  # building materials 12 + 4 x 60 + 70 + 68 + 70 + 70 = 530 of 600; household kits 400 of 1,500
        "location": "NK-ST-01",
        "facility": "",
        "sector": "housing",
        "assessed_on": D(2020, 11, 18),
        "condition": "partially_damaged",
        "severity": 4,
        "people_affected": 12000,
        "summary": "About 1,500 flats with broken windows and roofs; families returning from Armenia.",
        "needs": [
            ("building-materials", "600", "high", D(2020, 12, 20)),
            ("household-kit", "1500", "high", D(2020, 12, 1)),
            ("window-glass", "50", "medium", None),  # cancelled below: glazed by a partner
        ],
        "cancel": ["window-glass"],
    },
    {  # stoves: four trains of 500 from 26 November = 2,000 of 2,000 (the 19 November truck came before)
        "location": "NK-ST-01",
        "facility": "",
        "sector": "heating",
        "assessed_on": D(2020, 11, 20),
        "condition": "severely_damaged",
        "severity": 5,
        "people_affected": 20000,
        "summary": "The district heating plant is out of gas; homes need wood stoves before winter.",
        "needs": [("stove", "2000", "critical", D(2020, 12, 15))],
    },
    {  # generators 8 of 12
        "location": "NK-MA-01",
        "facility": "Martuni pumping station",
        "sector": "water",
        "assessed_on": D(2020, 11, 21),
        "condition": "partially_damaged",
        "severity": 4,
        "people_affected": 6000,
        "summary": "Pumps intact, no grid power: the town has water two hours a day.",
        "needs": [("diesel-generator", "12", "critical", D(2020, 11, 30))],
    },
    {  # household kits 4 trains x 3,000 + 400 = 12,400 of 15,000
        "location": "NK-MA-01",
        "facility": "",
        "sector": "housing",
        "assessed_on": D(2020, 11, 22),
        "condition": "severely_damaged",
        "severity": 4,
        "people_affected": 9000,
        "summary": "Shelling damaged most houses on the eastern side; returning families have lost belongings.",
        "needs": [("household-kit", "15000", "high", D(2020, 12, 31))],
    },
    {  # stoves 200 of 600
        "location": "NK-MA-01",
        "facility": "",
        "sector": "heating",
        "assessed_on": D(2020, 11, 22),
        "condition": "partially_damaged",
        "severity": 3,
        "people_affected": 3000,
        "summary": "Individual heating; about 600 homes without a working stove.",
        "needs": [("stove", "600", "high", D(2020, 12, 15))],
    },
    {  # stoves 200 of 200
        "location": "NK-MA-02",
        "facility": "",
        "sector": "heating",
        "assessed_on": D(2020, 11, 28),
        "condition": "partially_damaged",
        "severity": 3,
        "people_affected": 800,
        "summary": "Village homes heated by stoves; 200 destroyed or looted.",
        "needs": [("stove", "200", "medium", D(2020, 12, 20))],
    },
    {  # generators 8 of 10; stoves none of 400
        "location": "NK-AS-01",
        "facility": "Askeran water tower",
        "sector": "water",
        "assessed_on": D(2020, 11, 24),
        "condition": "partially_damaged",
        "severity": 3,
        "people_affected": 2000,
        "summary": "Water tower pump without power.",
        "needs": [("diesel-generator", "10", "high", D(2020, 12, 10))],
    },
    {
        "location": "NK-AS-01",
        "facility": "",
        "sector": "heating",
        "assessed_on": D(2020, 11, 24),
        "condition": "severely_damaged",
        "severity": 4,
        "people_affected": 1800,
        "summary": "No stoves left in the houses hit by shelling.",
        "needs": [("stove", "400", "critical", D(2020, 12, 10))],
    },
    {  # generators 8 of 6
        "location": "NK-AS-02",
        "facility": "Ivanyan water supply",
        "sector": "water",
        "assessed_on": D(2020, 11, 25),
        "condition": "partially_damaged",
        "severity": 3,
        "people_affected": 1500,
        "summary": "Two boreholes without power.",
        "needs": [("diesel-generator", "6", "high", D(2020, 12, 5))],
    },
    {  # building materials 12 of 40
        "location": "NK-AS-02",
        "facility": "",
        "sector": "housing",
        "assessed_on": D(2020, 12, 1),
        "condition": "partially_damaged",
        "severity": 3,
        "people_affected": 1200,
        "summary": "Roofs damaged on about 80 houses.",
        "needs": [("building-materials", "40", "medium", D(2020, 12, 31))],
    },
    {  # building materials 12 of 150; stoves 200 of 300
        "location": "NK-MT-01",
        "facility": "",
        "sector": "housing",
        "assessed_on": D(2020, 11, 23),
        "condition": "severely_damaged",
        "severity": 4,
        "people_affected": 4000,
        "summary": "Houses near the front line damaged; the town is half empty.",
        "needs": [
            ("building-materials", "150", "high", D(2020, 12, 31)),
            ("stove", "300", "high", D(2020, 12, 15)),
        ],
    },
    {  # generators 8 of 16
        "location": "NK-SH-01",
        "facility": "Shushi substation",
        "sector": "energy",
        "assessed_on": D(2020, 11, 26),
        "condition": "destroyed",
        "severity": 5,
        "people_affected": 3000,
        "summary": "The substation was destroyed; the remaining residents have no power.",
        "needs": [("diesel-generator", "16", "critical", D(2020, 12, 10))],
    },
    {  # nothing delivered yet: a truck is only planned
        "location": "NK-MA-03",
        "facility": "",
        "sector": "housing",
        "assessed_on": D(2020, 12, 2),
        "condition": "destroyed",
        "severity": 5,
        "people_affected": 700,
        "summary": "Most houses of the village destroyed.",
        "needs": [
            ("building-materials", "80", "critical", D(2020, 12, 20)),
            ("household-kit", "500", "high", D(2020, 12, 20)),
        ],
    },
    {  # stoves: the truck to Vank is still on the road
        "location": "NK-MT-02",
        "facility": "",
        "sector": "heating",
        "assessed_on": D(2020, 11, 30),
        "condition": "partially_damaged",
        "severity": 3,
        "people_affected": 500,
        "summary": "Mountain village; no heating but wood stoves, many of them broken.",
        "needs": [("stove", "250", "high", D(2020, 12, 20))],
    },
    {  # an assessment without needs: the road is being repaired by the authorities
        "location": "NK-MT-03",
        "facility": "Sarsang reservoir road bridge",
        "sector": "transport",
        "assessed_on": D(2020, 11, 27),
        "condition": "partially_damaged",
        "severity": 2,
        "people_affected": None,
        "summary": "One span damaged; open to light vehicles.",
        "needs": [],
    },
]


def _groups(by, orgs, places) -> dict[str, WorkingGroup]:
    groups = {}
    for spec in GROUPS:
        group = WorkingGroup.objects.filter(code=spec["code"]).first()
        if group is None:
            group = services.working_group_create(
                by=by,
                data=WorkingGroupInput(
                    name=spec["name"],
                    code=spec["code"],
                    lead_organisation=orgs[spec["lead"]],
                    established_on=spec["established_on"],
                    mandate=spec["mandate"],
                    area=places[spec["area"]],
                ),
            )
        for org, person, position, role, from_on in spec["members"]:
            if not Membership.objects.filter(working_group=group, organisation=orgs[org], position=position).exists():
                data = MembershipInput(
                    organisation=orgs[org], from_on=from_on, person=person, position=position, role=role
                )
                services.membership_add(by=by, group_id=group.pk, data=data)
        groups[spec["code"]] = group
    return groups


def _meetings(by, orgs, groups) -> int:
    created = 0
    for spec in MEETINGS:
        group = groups[spec["group"]]
        if Meeting.objects.filter(working_group=group, held_on=spec["held_on"], title=spec["title"]).exists():
            continue
        meeting = services.meeting_create(
            by=by,
            data=MeetingInput(
                working_group=group,
                held_on=spec["held_on"],
                title=spec["title"],
                kind=spec["kind"],
                place=spec["place"],
                organisations=[orgs[code] for code in spec["organisations"]],
                attendees=spec["attendees"],
                minutes=spec["minutes"],
                decisions=spec["decisions"],
                actions=[
                    ActionItemInput(description=d, owner=orgs[o], due_on=due) for d, o, due, *_ in spec["actions"]
                ],
            ),
        )
        items = list(meeting.actions.order_by("id"))
        for item, (_, _, _, closed_on, status) in zip(items, spec["actions"], strict=True):
            if closed_on is not None:
                services.action_item_close(by=by, item_id=item.pk, status=status, closed_on=closed_on)
        created += 1
    return created


def _assessments(by, places, cargo, groups) -> int:
    created = 0
    for spec in ASSESSMENTS:
        location = places[spec["location"]]
        key = {"location": location, "sector": spec["sector"], "facility": spec["facility"]}
        if Assessment.objects.filter(assessed_on=spec["assessed_on"], **key).exists():
            continue
        assessment = services.assessment_create(
            by=by,
            data=AssessmentInput(
                location=location,
                sector=spec["sector"],
                assessed_on=spec["assessed_on"],
                condition=spec["condition"],
                severity=spec["severity"],
                facility=spec["facility"],
                working_group=groups[INFRA],
                people_affected=spec["people_affected"],
                summary=spec["summary"],
                needs=[
                    NeedInput(cargo_type=cargo[code], quantity=Decimal(q), priority=priority, needed_by=needed_by)
                    for code, q, priority, needed_by in spec["needs"]
                ],
            ),
        )
        for need in assessment.needs.filter(cargo_type__code__in=spec.get("cancel", [])):
            services.need_set_status(by=by, need_id=need.pk, status=Need.Status.CANCELLED)
        created += 1
    return created


@transaction.atomic
def load_demo_needs() -> dict[str, int]:
    """Create the demo groups, meetings, assessments and needs that do not exist yet; how many were created."""
    by = demo_loader()
    orgs = {org.code: org for org in Organisation.objects.all()}
    places = {loc.code: loc for loc in Location.objects.all()}
    cargo = {c.code: c for c in CargoType.objects.all()}
    groups_before = WorkingGroup.objects.count()
    groups = _groups(by, orgs, places)
    return {
        "groups": WorkingGroup.objects.count() - groups_before,
        "meetings": _meetings(by, orgs, groups),
        "assessments": _assessments(by, places, cargo, groups),
    }
