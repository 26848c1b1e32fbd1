"""A professional society's experts: its administrators appoint and retire the experts of its specialties, and of
nobody else's, and hand a retired expert's open cases to another expert; portal administrators keep every power."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as accounts_services
from accounts.models import AuditEvent, Membership, Organization, ReviewerAppointment
from events.models import EventTransition
from nmo_portal.errors import PermissionDenied, PortalError
from review import selectors, services
from review.models import Status

from ..factories import (
    EventFactory,
    MembershipFactory,
    ModuleFactory,
    OrganizationFactory,
    ReviewerAppointmentFactory,
    StaffFactory,
    UserFactory,
    specialty,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def narcology():
    return specialty("31.08.21")


@pytest.fixture
def society(psychiatry, narcology):
    """The Russian Society of Psychiatrists: psychiatry and psychiatry-narcology."""
    organization = OrganizationFactory(name="Российское общество психиатров", kind=Organization.Kind.SOCIETY)
    organization.specialties.set([psychiatry, narcology])
    return organization


@pytest.fixture
def society_admin(society):
    return MembershipFactory(organization=society, role=Membership.Role.ADMIN).user


@pytest.fixture
def cardiologists(cardiology):
    """Another society, responsible for cardiology only, with its administrator."""
    organization = OrganizationFactory(name="Российское кардиологическое общество", kind=Organization.Kind.SOCIETY)
    organization.specialties.set([cardiology])
    return organization


@pytest.fixture
def cardiologists_admin(cardiologists):
    return MembershipFactory(organization=cardiologists, role=Membership.Role.ADMIN).user


def in_review(factory, reviewer, specialties, days_left=10, **fields):
    """An activity of another provider, in `reviewer`'s review with `days_left` days to its deadline."""
    now = timezone.now()
    return factory(
        status=Status.IN_REVIEW,
        reviewer=reviewer,
        specialties=specialties,
        submitted_at=now - timedelta(days=3),
        assigned_at=now - timedelta(days=3),
        due_at=now + timedelta(days=days_left),
        **fields,
    )


def decided(factory, reviewer, specialties, *, days, ago=20):
    """An activity `reviewer` approved `ago` days ago, `days` days after the provider submitted it."""
    decided_at = timezone.now() - timedelta(days=ago)
    return factory(
        approved=True,
        reviewer=reviewer,
        specialties=specialties,
        submitted_at=decided_at - timedelta(days=days),
        decided_at=decided_at,
    )


# Appointing -----------------------------------------------------------------------------------------------------


def test_a_society_administrator_appoints_an_expert_of_its_specialties(society, society_admin, psychiatry, narcology):
    expert = UserFactory()

    appointments = accounts_services.society_expert_appoint(
        society=society, user=expert, specialties=[psychiatry, narcology], actor=society_admin
    )

    assert {a.specialty for a in appointments} == {psychiatry, narcology}
    for appointment in ReviewerAppointment.objects.filter(user=expert):
        assert appointment.is_active
        assert appointment.organization == society
        assert appointment.society == "Российское общество психиатров"
        assert appointment.appointed_by == society_admin
    assert AuditEvent.objects.filter(action="reviewer.appoint", actor=society_admin).count() == 2


def test_a_society_cannot_appoint_an_expert_of_another_societys_specialty(
    society, society_admin, cardiologists, psychiatry, cardiology
):
    expert = UserFactory()

    for specialties in ([cardiology], [psychiatry, cardiology]):
        with pytest.raises(PortalError) as refused:
            accounts_services.society_expert_appoint(
                society=society, user=expert, specialties=specialties, actor=society_admin
            )
        assert refused.value.code == "specialty_not_in_society"
        assert refused.value.status == 403
        assert "31.08.36" in str(refused.value.message)

    # not even the psychiatry appointment that came with the cardiology one
    assert not ReviewerAppointment.objects.filter(user=expert).exists()
    assert not AuditEvent.objects.filter(action="reviewer.appoint").exists()


def test_the_administrator_of_one_society_cannot_act_for_another(society, cardiologists_admin, psychiatry):
    """Administering the cardiologists gives no power over the psychiatrists' society, even for its specialty."""
    with pytest.raises(PermissionDenied):
        accounts_services.society_expert_appoint(
            society=society, user=UserFactory(), specialties=[psychiatry], actor=cardiologists_admin
        )
    assert not ReviewerAppointment.objects.exists()


def test_appointing_again_reactivates_the_earlier_appointment_under_the_society(society, society_admin, psychiatry):
    staff = StaffFactory()
    [earlier] = accounts_services.reviewer_appoint(user=UserFactory(), specialties=[psychiatry], actor=staff)
    earlier.is_active = False
    earlier.save()

    [again] = accounts_services.society_expert_appoint(
        society=society, user=earlier.user, specialties=[psychiatry], actor=society_admin
    )

    assert again.pk == earlier.pk
    assert ReviewerAppointment.objects.filter(user=earlier.user).count() == 1
    again.refresh_from_db()
    assert again.is_active
    assert again.organization == society
    assert again.appointed_by == society_admin
    audit = AuditEvent.objects.get(action="reviewer.appoint", actor=society_admin)
    assert audit.details["reactivated"] is True


@pytest.mark.parametrize(
    ("who", "code"),
    [("member", "permission_denied"), ("unverified", "organization_not_verified"), ("not_a_society", "not_a_society")],
)
def test_only_administrators_of_a_verified_society_appoint(society, psychiatry, who, code):
    if who == "member":
        actor = MembershipFactory(organization=society, role=Membership.Role.MEMBER).user
    else:
        if who == "unverified":
            society.status = Organization.Status.PENDING
        else:
            society.kind = Organization.Kind.NKO
        society.save()
        actor = MembershipFactory(organization=society, role=Membership.Role.ADMIN).user

    with pytest.raises(PortalError) as refused:
        accounts_services.society_expert_appoint(
            society=society, user=UserFactory(), specialties=[psychiatry], actor=actor
        )

    assert refused.value.code == code
    assert not ReviewerAppointment.objects.exists()


def test_portal_administrators_keep_their_powers(society, psychiatry, cardiology):
    staff = StaffFactory()
    expert = UserFactory()

    # for a society they are not members of
    [appointment] = accounts_services.society_expert_appoint(
        society=society, user=expert, specialties=[psychiatry], actor=staff
    )
    accounts_services.society_expert_retire(society=society, appointment=appointment, actor=staff)
    # and for any specialty, without a society, as before
    [plain] = accounts_services.reviewer_appoint(user=expert, specialties=[cardiology], actor=staff)

    appointment.refresh_from_db()
    assert not appointment.is_active
    assert plain.is_active
    assert plain.organization is None
    with pytest.raises(PermissionDenied):
        accounts_services.reviewer_appoint(user=UserFactory(), specialties=[cardiology], actor=UserFactory())


# Retiring -------------------------------------------------------------------------------------------------------


def test_retiring_an_expert_keeps_their_open_cases_and_sends_them_no_new_ones(society, society_admin, psychiatry):
    """An expert the portal administrators appointed for a specialty of the society is the society's to retire."""
    [appointment] = accounts_services.reviewer_appoint(
        user=UserFactory(), specialties=[psychiatry], actor=StaffFactory()
    )
    expert = appointment.user
    case = in_review(EventFactory, expert, [psychiatry])

    accounts_services.society_expert_retire(society=society, appointment=appointment, actor=society_admin)

    appointment.refresh_from_db()
    assert not appointment.is_active
    case.refresh_from_db()
    assert case.reviewer == expert
    assert case.status == Status.IN_REVIEW
    assert expert not in services.reviewer_candidates(EventFactory(specialties=[psychiatry]))
    assert AuditEvent.objects.filter(
        action="reviewer.retire", actor=society_admin, object_id=str(appointment.pk)
    ).exists()
    with pytest.raises(PortalError) as twice:
        accounts_services.society_expert_retire(society=society, appointment=appointment, actor=society_admin)
    assert twice.value.code == "expert_already_retired"


def test_a_society_cannot_retire_an_expert_of_another_societys_specialty(
    society, cardiologists, cardiologists_admin, psychiatry
):
    appointment = ReviewerAppointmentFactory(specialty=psychiatry, organization=society)

    for acting_for in (cardiologists, society):  # its own society, or the one it does not administer
        with pytest.raises(PortalError) as refused:
            accounts_services.society_expert_retire(
                society=acting_for, appointment=appointment, actor=cardiologists_admin
            )
        assert refused.value.status == 403

    appointment.refresh_from_db()
    assert appointment.is_active
    assert not AuditEvent.objects.filter(action="reviewer.retire").exists()


# Handing over ---------------------------------------------------------------------------------------------------


@pytest.fixture
def retired(society, psychiatry, cardiology):
    """A retired psychiatry expert, still active for cardiology, with cases of both."""
    appointment = ReviewerAppointmentFactory(specialty=psychiatry, organization=society, is_active=False)
    ReviewerAppointmentFactory(user=appointment.user, specialty=cardiology)
    return appointment.user


def test_a_retired_experts_open_cases_go_to_another_expert(
    society, society_admin, retired, psychiatry, cardiology, django_capture_on_commit_callbacks
):
    successor = ReviewerAppointmentFactory(specialty=psychiatry, organization=society).user
    event = in_review(EventFactory, retired, [psychiatry, cardiology], days_left=-2)
    module = in_review(ModuleFactory, retired, [psychiatry])
    cardiology_case = in_review(EventFactory, retired, [cardiology])
    done = decided(EventFactory, retired, [psychiatry], days=3)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        result = services.review_cases_hand_over(
            society=society, from_user=retired, to_user=successor, specialty=psychiatry, actor=society_admin
        )

    assert result == services.HandOver(moved=2, left=0)
    for case in (event, module):
        case.refresh_from_db()
        assert case.reviewer == successor
        assert case.status == Status.IN_REVIEW
        assert case.due_at > timezone.now()  # the new expert gets the usual time
    for untouched in (cardiology_case, done):
        untouched.refresh_from_db()
        assert untouched.reviewer == retired
    step = EventTransition.objects.filter(event=event).latest("id")
    assert step.reviewer == successor
    assert step.actor == society_admin
    assert AuditEvent.objects.filter(action="event.in_review", object_id=str(event.pk), actor=society_admin).exists()
    assert AuditEvent.objects.filter(action="module.in_review", object_id=str(module.pk)).exists()
    summary = AuditEvent.objects.get(action="review.hand_over")
    assert summary.details == {
        "specialty": "31.08.20",
        "from_user": retired.pk,
        "to_user": successor.pk,
        "moved": 2,
        "left": 0,
    }
    assert sorted(m.to[0] for m in mail.outbox) == [successor.email, successor.email]


@pytest.mark.parametrize("target", ["nobody", "retired_expert", "expert_of_another_specialty", "same_person"])
def test_a_hand_over_to_someone_who_is_not_an_active_expert_is_refused(
    society, society_admin, retired, psychiatry, narcology, target
):
    case = in_review(EventFactory, retired, [psychiatry])
    to_user = {
        "nobody": lambda: UserFactory(),
        "retired_expert": lambda: ReviewerAppointmentFactory(specialty=psychiatry, is_active=False).user,
        "expert_of_another_specialty": lambda: ReviewerAppointmentFactory(specialty=narcology).user,
        "same_person": lambda: retired,
    }[target]()

    with pytest.raises(PortalError) as refused:
        services.review_cases_hand_over(
            society=society, from_user=retired, to_user=to_user, specialty=psychiatry, actor=society_admin
        )

    expected = "hand_over_to_same_expert" if target == "same_person" else "hand_over_target_not_expert"
    assert refused.value.code == expected
    case.refresh_from_db()
    assert case.reviewer == retired
    assert not AuditEvent.objects.filter(action="review.hand_over").exists()


def test_a_society_cannot_hand_over_cases_of_another_societys_specialty(
    society, cardiologists, cardiologists_admin, retired, society_admin, cardiology
):
    successor = ReviewerAppointmentFactory(specialty=cardiology).user
    case = in_review(EventFactory, retired, [cardiology])

    with pytest.raises(PortalError) as refused:
        services.review_cases_hand_over(
            society=society, from_user=retired, to_user=successor, specialty=cardiology, actor=society_admin
        )

    assert refused.value.code == "specialty_not_in_society"
    case.refresh_from_db()
    assert case.reviewer == retired
    # the cardiologists' own administrator may
    services.review_cases_hand_over(
        society=cardiologists, from_user=retired, to_user=successor, specialty=cardiology, actor=cardiologists_admin
    )
    case.refresh_from_db()
    assert case.reviewer == successor


def test_a_case_of_the_new_experts_own_organization_stays(society, society_admin, retired, psychiatry):
    successor = ReviewerAppointmentFactory(specialty=psychiatry).user
    theirs = MembershipFactory(user=successor, role=Membership.Role.MEMBER).organization
    own = in_review(EventFactory, retired, [psychiatry], organization=theirs)
    other = in_review(EventFactory, retired, [psychiatry])

    result = services.review_cases_hand_over(
        society=society, from_user=retired, to_user=successor, specialty=psychiatry, actor=society_admin
    )

    assert result == services.HandOver(moved=1, left=1)
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.reviewer == retired
    assert other.reviewer == successor


# What the society sees ------------------------------------------------------------------------------------------


def test_queues_and_review_times_equal_hand_counted_values(society, psychiatry, narcology, cardiology):
    expert = ReviewerAppointmentFactory(specialty=psychiatry, organization=society).user
    ReviewerAppointmentFactory(user=expert, specialty=narcology, organization=society)
    idle = ReviewerAppointmentFactory(specialty=psychiatry).user
    # psychiatry: decided in 2, 4 and 9 days within the year (median 4), one in 30 days a year and more ago
    decided(EventFactory, expert, [psychiatry], days=2)
    decided(ModuleFactory, expert, [psychiatry, narcology], days=4)  # also narcology's only decision
    decided(EventFactory, expert, [psychiatry], days=9, ago=100)
    decided(EventFactory, expert, [psychiatry], days=30, ago=400)
    decided(EventFactory, idle, [cardiology], days=1)  # not a specialty of the society
    # psychiatry: three open cases, one past its deadline; cardiology's is not the society's business
    in_review(EventFactory, expert, [psychiatry], days_left=-1)
    in_review(ModuleFactory, expert, [psychiatry])
    in_review(EventFactory, expert, [psychiatry, narcology])
    in_review(EventFactory, expert, [cardiology], days_left=-5)

    groups = {group.specialty.code: group for group in selectors.society_experts(society=society)}

    assert list(groups) == ["31.08.20", "31.08.21"]
    work = {row.appointment.user: row.work for row in groups["31.08.20"].experts}
    assert work[expert] == selectors.ExpertWork(open_cases=3, overdue=1, decided=3, median_days=4.0)
    assert work[idle] == selectors.ExpertWork(open_cases=0, overdue=0, decided=0, median_days=None)
    [narcology_row] = groups["31.08.21"].experts
    assert narcology_row.work == selectors.ExpertWork(open_cases=1, overdue=0, decided=1, median_days=4.0)


def test_the_median_of_an_even_number_of_decisions_is_the_mean_of_the_middle_two(society, psychiatry):
    expert = ReviewerAppointmentFactory(specialty=psychiatry, organization=society).user
    for days in (1, 3, 6, 10):
        decided(EventFactory, expert, [psychiatry], days=days)

    [group, _narcology] = selectors.society_experts(society=society)

    assert group.experts[0].work.median_days == 4.5


# The society's pages --------------------------------------------------------------------------------------------


def experts_url(society, *rest):
    if not rest:
        return reverse("review:society_experts", args=[society.pk])
    name, *args = rest
    return reverse(f"review:{name}", args=[society.pk, *args])


def test_the_organization_page_of_a_society_leads_to_its_experts(client, society, society_admin):
    client.force_login(society_admin)

    page = client.get(reverse("accounts:organization_detail", args=[society.pk])).content.decode()

    assert experts_url(society) in page
    assert "31.08.21" in page  # the specialties it is responsible for


def test_the_experts_page_shows_queues_and_review_times_in_russian_and_english(
    client, society, society_admin, psychiatry
):
    expert = ReviewerAppointmentFactory(specialty=psychiatry, organization=society, user__last_name="Павлова").user
    for days in (2, 4, 9):
        decided(EventFactory, expert, [psychiatry], days=days)
    in_review(EventFactory, expert, [psychiatry], days_left=-1)
    in_review(ModuleFactory, expert, [psychiatry])
    client.force_login(society_admin)

    for language, heading, median in (("ru", "Эксперты общества", "4,0"), ("en", "Experts of the society", "4.0")):
        client.cookies["django_language"] = language
        response = client.get(experts_url(society))
        assert response.status_code == 200
        page = response.content.decode()
        assert heading in page
        row = page.split(f'data-expert="{expert.email}"')[1].split("</tr>")[0]
        assert "Павлова" in row
        assert "data-open-cases>2<" in row
        assert "data-overdue>1<" in row
        assert f"data-median-days>{median}<" in row
        assert 'table class="stack"' in page


def test_the_experts_page_keeps_a_constant_number_of_queries(
    client, society, society_admin, psychiatry, narcology, django_assert_max_num_queries
):
    client.force_login(society_admin)
    for count in (2, 20):
        for _n in range(count):
            expert = ReviewerAppointmentFactory(specialty=psychiatry, organization=society).user
            ReviewerAppointmentFactory(user=expert, specialty=narcology, is_active=False)
            in_review(EventFactory, expert, [psychiatry, narcology])
            decided(ModuleFactory, expert, [psychiatry], days=3)
        with django_assert_max_num_queries(13):  # 12, and the navigation's commission seat
            response = client.get(experts_url(society))
        assert response.status_code == 200


@pytest.mark.parametrize("who", ["cardiologists_admin", "outsider", "expert"])
def test_another_societys_staff_and_outsiders_get_404(client, request, society, psychiatry, who):
    """Neither the page nor any of its forms shows that the society or its experts exist."""
    person = request.getfixturevalue(who) if who == "cardiologists_admin" else None
    if who == "outsider":
        person = UserFactory()
    appointment = ReviewerAppointmentFactory(specialty=psychiatry, organization=society)
    case = in_review(EventFactory, appointment.user, [psychiatry])
    successor = ReviewerAppointmentFactory(specialty=psychiatry).user
    if who == "expert":
        person = appointment.user
    client.force_login(person)

    assert client.get(experts_url(society)).status_code == 404
    appoint = {"email": UserFactory().email, "specialties": [psychiatry.pk]}
    assert client.post(experts_url(society, "society_expert_appoint"), appoint).status_code == 404
    assert client.post(experts_url(society, "society_expert_retire", appointment.pk)).status_code == 404
    hand_over = experts_url(society, "society_cases_hand_over", appointment.pk)
    assert client.post(hand_over, {"to": successor.pk}).status_code == 404

    appointment.refresh_from_db()
    case.refresh_from_db()
    assert appointment.is_active
    assert case.reviewer == appointment.user
    assert ReviewerAppointment.objects.count() == 2


def test_an_organization_that_is_not_a_society_has_no_experts_page(client):
    provider = MembershipFactory(organization__kind=Organization.Kind.NKO)
    client.force_login(provider.user)

    assert client.get(experts_url(provider.organization)).status_code == 404


def test_a_member_who_is_not_an_administrator_reads_the_page_but_cannot_act(client, society, psychiatry):
    member = MembershipFactory(organization=society, role=Membership.Role.MEMBER).user
    appointment = ReviewerAppointmentFactory(specialty=psychiatry, organization=society)
    client.force_login(member)

    page = client.get(experts_url(society)).content.decode()
    assert appointment.user.email in page
    assert experts_url(society, "society_expert_appoint") not in page
    assert experts_url(society, "society_expert_retire", appointment.pk) not in page
    assert client.post(experts_url(society, "society_expert_retire", appointment.pk)).status_code == 403
    response = client.post(
        experts_url(society, "society_expert_appoint"), {"email": member.email, "specialties": [psychiatry.pk]}
    )
    assert response.status_code == 403
    appointment.refresh_from_db()
    assert appointment.is_active
    assert not ReviewerAppointment.objects.filter(user=member).exists()


def test_an_administrator_appoints_an_expert_by_e_mail(client, society, society_admin, psychiatry):
    expert = UserFactory(email="pavlova@example.org")
    client.force_login(society_admin)

    response = client.post(
        experts_url(society, "society_expert_appoint"), {"email": "Pavlova@Example.org", "specialties": [psychiatry.pk]}
    )

    assert response.status_code == 302
    appointment = ReviewerAppointment.objects.get(user=expert)
    assert (appointment.specialty, appointment.organization, appointment.is_active) == (psychiatry, society, True)
    page = client.get(response["Location"]).content.decode()
    assert "pavlova@example.org" in page
    assert "31.08.20" in page


def test_an_e_mail_nobody_signed_up_with_is_answered_with_a_clear_message(client, society, society_admin, psychiatry):
    client.force_login(society_admin)
    client.cookies["django_language"] = "en"

    response = client.post(
        experts_url(society, "society_expert_appoint"), {"email": "nobody@example.org", "specialties": [psychiatry.pk]}
    )

    assert response.status_code == 400
    assert "Nobody has an account on the portal with the e-mail nobody@example.org" in response.content.decode()
    assert not ReviewerAppointment.objects.exists()


def test_the_appointment_form_offers_only_the_societys_specialties(
    client, society, society_admin, cardiologists, psychiatry, cardiology
):
    expert = UserFactory()
    client.force_login(society_admin)

    form = client.get(experts_url(society)).content.decode().split('id="appoint"')[1]
    assert f'value="{psychiatry.pk}"' in form
    assert f'value="{cardiology.pk}"' not in form
    response = client.post(
        experts_url(society, "society_expert_appoint"), {"email": expert.email, "specialties": [cardiology.pk]}
    )
    assert response.status_code == 400
    assert not ReviewerAppointment.objects.exists()


def test_an_administrator_retires_an_expert_from_the_page(
    client, society, society_admin, cardiologists, psychiatry, cardiology
):
    ours = ReviewerAppointmentFactory(specialty=psychiatry, organization=society)
    theirs = ReviewerAppointmentFactory(specialty=cardiology, organization=cardiologists)
    case = in_review(EventFactory, ours.user, [psychiatry])
    client.force_login(society_admin)

    response = client.post(experts_url(society, "society_expert_retire", ours.pk))
    # an expert of another society's specialty is not found through this society
    assert client.post(experts_url(society, "society_expert_retire", theirs.pk)).status_code == 404

    assert response.status_code == 302
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert not ours.is_active
    assert theirs.is_active
    case.refresh_from_db()
    assert case.reviewer == ours.user
    row = client.get(experts_url(society)).content.decode().split(f'data-expert="{ours.user.email}"')[1]
    assert "data-open-cases>1<" in row.split("</tr>")[0]


def test_an_administrator_hands_a_retired_experts_cases_over_from_the_page(client, society, society_admin, psychiatry):
    retired = ReviewerAppointmentFactory(specialty=psychiatry, organization=society, is_active=False)
    successor = ReviewerAppointmentFactory(specialty=psychiatry, organization=society).user
    outsider = UserFactory()
    cases = [in_review(EventFactory, retired.user, [psychiatry]), in_review(ModuleFactory, retired.user, [psychiatry])]
    client.force_login(society_admin)
    url = experts_url(society, "society_cases_hand_over", retired.pk)

    page = client.get(experts_url(society)).content.decode()
    assert url in page
    assert client.post(url, {"to": outsider.pk}).status_code == 400
    assert client.post(url, {"to": "99999999999999999999"}).status_code == 400
    for case in cases:
        case.refresh_from_db()
        assert case.reviewer == retired.user

    response = client.post(url, {"to": successor.pk}, follow=True)

    assert response.status_code == 200
    assert "2 заявки переданы" in response.content.decode()
    for case in cases:
        case.refresh_from_db()
        assert case.reviewer == successor
    assert AuditEvent.objects.filter(action="review.hand_over", actor=society_admin).exists()


def test_portal_staff_see_and_manage_any_societys_experts(client, society, psychiatry):
    staff = StaffFactory()
    expert = UserFactory()
    client.force_login(staff)

    assert client.get(experts_url(society)).status_code == 200
    response = client.post(
        experts_url(society, "society_expert_appoint"), {"email": expert.email, "specialties": [psychiatry.pk]}
    )

    assert response.status_code == 302
    assert ReviewerAppointment.objects.get(user=expert).organization == society


# The API and the admin ------------------------------------------------------------------------------------------


def test_the_api_lists_the_society_among_my_organizations(society, society_admin):
    MembershipFactory(
        user=society_admin,
        organization__name="НКО «Школа»",
        organization__kind=Organization.Kind.NKO,
        role=Membership.Role.MEMBER,
    )
    api = APIClient()
    api.force_login(society_admin)

    body = api.get(reverse("api:api-accounts:me")).json()

    assert {"id": society.pk, "name": society.name, "kind": "society", "role": "admin"} in body["organizations"]
    assert [o["kind"] for o in body["organizations"]] == ["nko", "society"]  # by name: «НКО» before «Российское»


def test_the_admin_shows_a_societys_specialties_and_an_experts_society(client, society, psychiatry):
    ReviewerAppointmentFactory(specialty=psychiatry, organization=society, society="")
    client.force_login(StaffFactory())

    organizations = client.get(reverse("admin:accounts_organization_changelist")).content.decode()
    appointments = client.get(
        reverse("admin:accounts_reviewerappointment_changelist") + f"?organization__id__exact={society.pk}"
    ).content.decode()

    assert "31.08.20, 31.08.21" in organizations
    assert str(society) in appointments  # its short name
