import factory
from django.contrib.auth.models import Group

from aidtrack.models import Location, Organisation, User
from shipments.models import CargoType


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organisation {n}")
    kind = Organisation.Kind.GOVERNMENT


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"L-{n:04d}")
    name = factory.Sequence(lambda n: f"Place {n}")
    level = Location.Level.SETTLEMENT


class CargoTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CargoType
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"cargo-{n}")
    name = factory.Sequence(lambda n: f"Cargo {n}")
    category = CargoType.Category.OTHER
    unit = CargoType.Unit.PIECES


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.django.Password("pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
