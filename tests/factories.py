import importlib
from datetime import date, datetime, time, timedelta

import factory
from allauth.account.models import EmailAddress
from django.apps import apps as django_apps
from django.utils import timezone

from accounts.models import DoctorProfile, Membership, Organization, ReviewerAppointment, Specialty, User, WorkRecord
from accounts.snils import snils_control
from events.models import Event
from learning_plan.models import AccreditationDocument, Portfolio
from learning_plan.portfolio import expiry_of
from modules.models import Module
from nmo_portal.calendar import register_zone
from review.models import Status
from societies.models import Announcement
from statuses.models import CommissionMember, StatusProgramme

PASSWORD = "correct-horse-battery-9"


def make_snils(n: int) -> str:
    """A valid СНИЛС for any n, so factories never collide and never fail the control sum."""
    head = f"{100_000_000 + n:09d}"
    return head + snils_control(head)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    last_name = "Смирнов"
    first_name = factory.Sequence(lambda n: f"Иван{n}")
    middle_name = "Петрович"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def confirmed(self, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
        if create:
            self.save()


class StaffFactory(UserFactory):
    is_staff = True
    is_superuser = True


class SpecialtyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Specialty
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"99.99.{n:02d}")
    name = factory.Sequence(lambda n: f"Специальность {n}")


def specialty(code: str) -> Specialty:
    """One of the reference specialties shipped by the data migration.

    A transactional test (browser, concurrency) ends by flushing every table, the migrated reference data
    included; the tests after it get the same rows back from the migration's own function.
    """
    found = Specialty.objects.filter(code=code).first()
    if found is None:
        migration = importlib.import_module("accounts.migrations.0002_specialties")
        migration.add_specialties(django_apps, None)
        found = Specialty.objects.get(code=code)
    return found


class DoctorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DoctorProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    snils = factory.Sequence(make_snils)

    @factory.post_generation
    def specialties(self, create, extracted, **kwargs):
        if create and extracted:
            self.specialties.set(extracted)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Общество специалистов №{n}")
    short_name = factory.Sequence(lambda n: f"ОС-{n}")
    kind = Organization.Kind.SOCIETY
    inn = factory.Sequence(lambda n: f"{7700000000 + n}")
    email = factory.Sequence(lambda n: f"org{n}@example.org")
    status = Organization.Status.VERIFIED
    status_changed_at = factory.LazyFunction(timezone.now)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.ADMIN


class ReviewerAppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewerAppointment

    user = factory.SubFactory(UserFactory)
    specialty = factory.LazyFunction(lambda: specialty("31.08.20"))
    society = "Российское общество психиатров"


def moscow(days_ahead: int, hour: int = 10) -> "datetime":
    """A Moscow-time moment `days_ahead` days from today at `hour` o'clock."""
    day = timezone.localdate() + timedelta(days=days_ahead)
    return datetime.combine(day, time(hour), tzinfo=register_zone())


class ActivityFactoryMixin(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    hours = 6
    credits_requested = 6

    @factory.post_generation
    def specialties(self, create, extracted, **kwargs):
        if create:
            self.specialties.set(extracted if extracted is not None else [specialty("31.08.20")])

    class Params:
        approved = factory.Trait(status=Status.APPROVED, credits_granted=factory.SelfAttribute("credits_requested"))


class EventFactory(ActivityFactoryMixin):
    class Meta:
        model = Event
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Конференция по психиатрии №{n}")
    programme = "Лекции и клинические разборы."
    format = Event.Format.IN_PERSON
    venue = "Москва, ул. Примерная, 1"
    starts_at = factory.LazyFunction(lambda: moscow(45, 10))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=7))


class ModuleFactory(ActivityFactoryMixin):
    class Meta:
        model = Module
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Модуль по психофармакологии №{n}")
    annotation = "Интерактивный модуль с задачами."
    link = "https://learn.example.org/module"
    available_from = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=1))
    available_until = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))


class AccreditationDocumentFactory(factory.django.DjangoModelFactory):
    """A psychiatry accreditation of a new doctor, with its portfolio (as services.document_record keeps them),
    issued four and a half years ago unless `issued_on` or `expires_on` is given: its window is open."""

    class Meta:
        model = AccreditationDocument
        skip_postgeneration_save = True

    doctor = factory.LazyAttribute(lambda o: DoctorProfileFactory(specialties=[o.specialty]).user)
    specialty = factory.LazyFunction(lambda: specialty("31.08.20"))
    kind = AccreditationDocument.Kind.ACCREDITATION
    number = factory.Sequence(lambda n: f"7724 {n:06d}")
    issued_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=365 * 4 + 180))
    expires_on = factory.LazyAttribute(lambda o: expiry_of(o.issued_on))

    @factory.post_generation
    def portfolio(self, create, extracted, **kwargs):
        if create:
            Portfolio.objects.create(document=self, doctor=self.doctor, **kwargs)


class WorkRecordFactory(factory.django.DjangoModelFactory):
    """A closed period of psychiatry in a Moscow hospital; pass ended_on=None for the current place of work."""

    class Meta:
        model = WorkRecord

    doctor = factory.SubFactory(UserFactory)
    employer = "ГБУЗ «Психиатрическая клиническая больница № 1 им. Н. А. Алексеева»"
    employer_inn = "7724036928"
    region = "77"
    unit = "Отделение № 5"
    position = "Врач-психиатр"
    specialty = factory.LazyFunction(lambda: specialty("31.08.20"))
    started_on = date(2015, 9, 1)
    ended_on = date(2019, 8, 31)


class CommissionMemberFactory(factory.django.DjangoModelFactory):
    """A seat on «Московский врач»'s psychiatry commission, the member working at a clinic of their own."""

    class Meta:
        model = CommissionMember

    programme = factory.LazyFunction(lambda: StatusProgramme.objects.get(slug="moscow-doctor"))
    specialty = factory.LazyFunction(lambda: specialty("31.08.20"))
    user = factory.SubFactory(UserFactory)
    employer_inn = "7701551231"


class AnnouncementFactory(factory.django.DjangoModelFactory):
    """A psychiatry announcement of a verified society, published an hour ago (data for reading: the rules of
    publishing are tested through societies.services)."""

    class Meta:
        model = Announcement
        skip_postgeneration_save = True

    society = factory.SubFactory(OrganizationFactory)
    title = factory.Sequence(lambda n: f"Новости общества №{n}")
    body = "Общество напоминает о **сроках** подачи программ."
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))

    @factory.post_generation
    def specialties(self, create, extracted, **kwargs):
        if create:
            self.specialties.set(extracted if extracted is not None else [specialty("31.08.20")])
