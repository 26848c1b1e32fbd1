"""Events and modules for the API tests (kept here, apart from tests/factories.py, while both grow)."""

from datetime import datetime, time, timedelta

import factory
from django.utils import timezone

from events.models import Event
from modules.models import Module
from nmo_portal.calendar import register_zone
from review.models import Status

from ..factories import OrganizationFactory, specialty


def moscow(days_ahead: int, hour: int = 10) -> datetime:
    day = timezone.localdate() + timedelta(days=days_ahead)
    return datetime.combine(day, time(hour), tzinfo=register_zone())


class _ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    hours = 6
    credits_requested = 6
    status = Status.DRAFT

    class Params:
        approved = factory.Trait(status=Status.APPROVED, credits_granted=factory.SelfAttribute("credits_requested"))

    @factory.post_generation
    def specialties(self, create, extracted, **kwargs):
        if create:
            self.specialties.set(extracted if extracted is not None else [specialty("31.08.20")])


class EventFactory(_ActivityFactory):
    class Meta:
        model = Event
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Школа молодого психиатра №{n}")
    programme = "Лекции и клинические разборы."
    format = Event.Format.IN_PERSON
    venue = "Москва, ул. Примерная, 1"
    starts_at = factory.LazyFunction(lambda: moscow(45))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=7))


class ModuleFactory(_ActivityFactory):
    class Meta:
        model = Module
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Модуль по психофармакологии №{n}")
    annotation = "Интерактивный модуль с задачами."
    link = "https://learn.example.org/module"
    available_from = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    available_until = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=335))
