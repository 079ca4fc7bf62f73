"""Reference data of the demo: the response after the November 2020 ceasefire (shared/seeds).

Every loader is idempotent: it matches rows by code and rewrites them to the values below.
"""

from django.contrib.auth.models import Group
from django.db import transaction

from shipments.models import CargoType

from . import roles
from .models import Location, Organisation, User

G, C, UN, RC, NGO = (
    Organisation.Kind.GOVERNMENT,
    Organisation.Kind.COORDINATION,
    Organisation.Kind.UN_AGENCY,
    Organisation.Kind.RED_CROSS,
    Organisation.Kind.NGO,
)

# code, name, short name, kind, country, parent code
ORGANISATIONS = [
    ("ru-emercom", "Ministry of Emergency Situations of the Russian Federation", "EMERCOM", G, "RU", None),
    ("ru-emercom-demining", "EMERCOM demining unit", "EMERCOM demining", G, "RU", "ru-emercom"),
    ("ru-mfa", "Ministry of Foreign Affairs of the Russian Federation", "MFA", G, "RU", None),
    ("ru-fsb", "Federal Security Service", "FSB", G, "RU", None),
    ("ru-ihrc", "Interdepartmental Humanitarian Response Centre", "IHRC", C, "RU", None),
    # Other federal bodies represented in the response centre.
    ("ru-mod", "Ministry of Defence of the Russian Federation", "MoD", G, "RU", None),
    ("ru-minstroy", "Ministry of Construction, Housing and Utilities of Russia", "Minstroy", G, "RU", None),
    ("ru-minzdrav", "Ministry of Health of the Russian Federation", "Minzdrav", G, "RU", None),
    # The governments whose heads met the emergencies ministry's head.
    ("am-gov", "Government of the Republic of Armenia", "Government of Armenia", G, "AM", None),
    ("az-presidency", "Administration of the President of Azerbaijan", "Presidency of Azerbaijan", G, "AZ", None),
    ("am-mes", "Ministry of Emergency Situations of Armenia", "MES Armenia", G, "AM", None),
    ("az-mes", "Ministry of Emergency Situations of Azerbaijan", "MES Azerbaijan", G, "AZ", None),
    ("icrc", "International Committee of the Red Cross", "ICRC", RC, "", None),
    ("unhcr", "UN Refugee Agency", "UNHCR", UN, "", None),
    ("wfp", "World Food Programme", "WFP", UN, "", None),
    ("unicef", "United Nations Children's Fund", "UNICEF", UN, "", None),
    ("arcs", "Armenian Red Cross Society", "ARCS", RC, "AM", None),
]

CO, RE, DI, SE, SI = (
    Location.Level.COUNTRY,
    Location.Level.REGION,
    Location.Level.DISTRICT,
    Location.Level.SETTLEMENT,
    Location.Level.SITE,
)

# code, name, alternative names, level, parent code, latitude, longitude
LOCATIONS = [
    # Origins and transit points outside the affected region.
    ("RU", "Russian Federation", "", CO, None, None, None),
    ("RU-MOW", "Moscow", "", RE, "RU", "55.755800", "37.617300"),
    ("RU-MOW-NOG", "Noginsk rescue centre", "", SI, "RU-MOW", "55.852000", "38.441000"),
    ("RU-ROS", "Rostov-on-Don", "", RE, "RU", "47.235700", "39.701500"),
    ("RU-SE", "North Ossetia", "", RE, "RU", None, None),
    ("RU-SE-MOZ", "Mozdok", "", SE, "RU-SE", "43.743800", "44.655600"),
    ("AM", "Armenia", "", CO, None, None, None),
    ("AM-ER", "Yerevan", "", RE, "AM", "40.179200", "44.499100"),
    ("AM-ER-RAIL", "Yerevan freight rail terminal", "", SI, "AM-ER", "40.153000", "44.497000"),
    ("AM-SU", "Syunik", "", RE, "AM", None, None),
    ("AM-SU-GOR", "Goris", "", SE, "AM-SU", "39.511100", "46.341700"),
    # The affected region, its districts and settlements.
    ("NK", "Nagorno-Karabakh", "Karabakh", RE, None, "39.816000", "46.750000"),
    ("NK-ST", "Stepanakert city", "Khankendi", DI, "NK", None, None),
    ("NK-ST-01", "Stepanakert", "Khankendi", SE, "NK-ST", "39.815200", "46.751900"),
    ("NK-ST-01-HUB", "Stepanakert humanitarian hub", "", SI, "NK-ST-01", "39.820000", "46.760000"),
    ("NK-AS", "Askeran district", "Khojaly district", DI, "NK", None, None),
    ("NK-AS-01", "Askeran", "Asgaran", SE, "NK-AS", "39.936100", "46.826100"),
    ("NK-AS-02", "Ivanyan", "Khojaly", SE, "NK-AS", "39.911900", "46.790300"),
    ("NK-AS-03", "Khramort", "Pirlar", SE, "NK-AS", "39.927000", "46.880000"),
    ("NK-MA", "Martuni district", "Khojavend district", DI, "NK", None, None),
    ("NK-MA-01", "Martuni", "Khojavend", SE, "NK-MA", "39.795800", "47.116700"),
    ("NK-MA-02", "Karmir Shuka", "Qirmizi Bazar", SE, "NK-MA", "39.708000", "46.990000"),
    ("NK-MA-03", "Chartar", "Chartaz", SE, "NK-MA", "39.735000", "47.090000"),
    ("NK-MT", "Martakert district", "Aghdara district", DI, "NK", None, None),
    ("NK-MT-01", "Martakert", "Aghdara", SE, "NK-MT", "40.216700", "46.816700"),
    ("NK-MT-02", "Vank", "Vang", SE, "NK-MT", "40.072000", "46.543000"),
    ("NK-MT-03", "Sarsang", "Sarsang reservoir", SE, "NK-MT", "40.151000", "46.620000"),
    ("NK-SH", "Shushi district", "Shusha district", DI, "NK", None, None),
    ("NK-SH-01", "Shushi", "Shusha", SE, "NK-SH", "39.758300", "46.750000"),
    ("NK-SH-02", "Berdzor", "Lachin", SE, "NK-SH", "39.580000", "46.540000"),
]

U = CargoType.Unit
K = CargoType.Category
# code, name, category, unit
CARGO_TYPES = [
    ("building-materials", "Building materials", K.SHELTER, U.TONNES),
    ("window-glass", "Window glass", K.SHELTER, U.CUBIC_METRES),
    ("roofing-sheets", "Roofing sheets", K.SHELTER, U.PIECES),
    ("diesel-generator", "Diesel generators", K.ENERGY, U.PIECES),
    ("diesel-fuel", "Diesel fuel", K.ENERGY, U.LITRES),
    ("offroad-vehicle", "Off-road vehicles", K.VEHICLES, U.VEHICLES),
    ("stove", "Stoves", K.HOUSEHOLD, U.PIECES),
    ("household-kit", "Household items", K.HOUSEHOLD, U.SETS),
    ("blanket", "Blankets", K.HOUSEHOLD, U.PIECES),
    ("food-parcel", "Food parcels", K.FOOD, U.SETS),
    ("medical-kit", "Medical supplies", K.HEALTH, U.SETS),
    ("bottled-water", "Bottled water", K.WASH, U.LITRES),
]

DEMO_PASSWORD = "demo"
# username, first name, last name, organisation code, role, superuser
DEMO_USERS = [
    ("officer", "Olga", "Petrova", "ru-emercom", roles.LOGISTICS_OFFICER, False),
    ("coordinator", "Sergei", "Ivanov", "ru-ihrc", roles.COORDINATOR, False),
    ("admin", "Anna", "Smirnova", "ru-emercom", roles.ADMINISTRATOR, True),
]


@transaction.atomic
def load_reference_data() -> dict[str, int]:
    orgs = {}
    for code, name, short_name, kind, country, parent in ORGANISATIONS:
        orgs[code], _ = Organisation.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "short_name": short_name,
                "kind": kind,
                "country": country,
                "parent": orgs[parent] if parent else None,
            },
        )
    locations = {}
    for code, name, alt_names, level, parent, lat, lon in LOCATIONS:
        locations[code], _ = Location.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "alt_names": alt_names,
                "level": level,
                "parent": locations[parent] if parent else None,
                "latitude": lat,
                "longitude": lon,
            },
        )
    for code, name, category, unit in CARGO_TYPES:
        CargoType.objects.update_or_create(
            code=code, defaults={"name": name, "category": category, "unit": unit, "active": True}
        )
    return {"organisations": len(orgs), "locations": len(locations), "cargo_types": len(CARGO_TYPES)}


@transaction.atomic
def load_demo_users() -> list[str]:
    """Users with the well-known password: only ever called with DEBUG on."""
    created = []
    for username, first, last, org_code, role, superuser in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username)
            user.set_password(DEMO_PASSWORD)
            created.append(username)
        user.first_name, user.last_name = first, last
        user.organisation = Organisation.objects.get(code=org_code)
        user.is_superuser = user.is_staff = superuser
        user.save()
        user.groups.add(Group.objects.get(name=role))
    return created
