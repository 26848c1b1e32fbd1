"""Society staff publish, edit and withdraw announcements for the specialties their society is responsible for, and
nobody else's: another society's staff find nothing (404), a specialty outside the society is refused, and every
refusal leaves the announcement as it was."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Organization
from nmo_portal.errors import PortalError
from societies.models import Announcement
from societies.services import announcement_edit, announcement_publish, announcement_withdraw

from ..factories import AnnouncementFactory, DoctorProfileFactory, StaffFactory, specialty

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {"title": "Пленум правления", "body": "Пленум пройдёт **в мае**.", "specialties": [], "published_at": ""}
    data.update(overrides)
    return data


def test_society_staff_publish_on_their_page_and_doctors_of_the_specialty_read_it(
    client, society, society_staff, psychiatry
):
    client.force_login(society_staff)
    page = client.get(reverse("societies:announcement_new", args=[society.pk]))
    assert page.status_code == 200
    offered = {choice.data["value"].instance for choice in page.context["form"]["specialties"]}
    assert offered == set(society.specialties.all())  # only the society's own

    response = client.post(
        reverse("societies:announcement_new", args=[society.pk]), form_data(specialties=[psychiatry.pk])
    )

    assert response.status_code == 302
    announcement = Announcement.objects.get()
    assert (announcement.society, announcement.title, announcement.created_by) == (
        society,
        "Пленум правления",
        society_staff,
    )
    assert list(announcement.specialties.all()) == [psychiatry]
    assert announcement.is_published
    audit = AuditEvent.objects.get(action="announcement.publish")
    assert (audit.actor, audit.object_id, audit.details["specialties"]) == (
        society_staff,
        str(announcement.pk),
        ["31.08.20"],
    )
    listing = client.get(reverse("societies:society_announcements", args=[society.pk])).content.decode()
    assert "Пленум правления" in listing
    public = client.get(reverse("societies:announcement", args=[announcement.pk])).content.decode()
    assert "<strong>в мае</strong>" in public


def test_the_organization_page_of_a_society_links_to_its_announcements(client, society, society_staff):
    client.force_login(society_staff)
    page = client.get(reverse("accounts:organization_detail", args=[society.pk])).content.decode()
    assert reverse("societies:society_announcements", args=[society.pk]) in page


def test_a_specialty_outside_the_society_is_refused_and_nothing_is_published(
    client, society, society_staff, cardiology
):
    with pytest.raises(PortalError) as refused:
        announcement_publish(
            society=society, actor=society_staff, title="Кардиология", body="Текст", specialties=[cardiology]
        )
    assert refused.value.code == "specialty_not_in_society"

    client.force_login(society_staff)
    response = client.post(
        reverse("societies:announcement_new", args=[society.pk]), form_data(specialties=[cardiology.pk])
    )
    assert response.status_code == 400
    assert response.context["form"].has_error("specialties")
    assert not Announcement.objects.exists()
    assert not AuditEvent.objects.filter(action="announcement.publish").exists()


def test_an_edit_cannot_move_an_announcement_to_a_specialty_outside_the_society(society, society_staff, cardiology):
    announcement = AnnouncementFactory(society=society)
    with pytest.raises(PortalError) as refused:
        announcement_edit(
            announcement=announcement,
            actor=society_staff,
            title="Другое",
            body="Другое",
            specialties=[cardiology],
            published_at=None,
            pinned=True,
        )
    assert refused.value.code == "specialty_not_in_society"
    announcement.refresh_from_db()
    assert (announcement.title, announcement.pinned) != ("Другое", True)
    assert [s.code for s in announcement.specialties.all()] == ["31.08.20"]


@pytest.mark.parametrize(
    ("title", "body", "code"),
    [
        ("", "Текст", "title_required"),
        ("x" * 201, "Текст", "title_too_long"),
        ("Заголовок", "", "body_required"),
        ("Заголовок", "x" * 20_001, "body_too_long"),
        ("Заго\x00ловок", "Текст", "null_characters_not_allowed"),
        ("Заголовок", "Те\x00кст", "null_characters_not_allowed"),
    ],
)
def test_fields_are_bounded_and_a_nul_is_refused_before_anything_is_saved(
    society, society_staff, psychiatry, title, body, code
):
    with pytest.raises(PortalError) as refused:
        announcement_publish(society=society, actor=society_staff, title=title, body=body, specialties=[psychiatry])
    assert refused.value.code == code
    assert not Announcement.objects.exists()


def test_the_page_says_what_is_too_long_and_saves_nothing(client, society, society_staff, psychiatry):
    client.force_login(society_staff)
    response = client.post(
        reverse("societies:announcement_new", args=[society.pk]),
        form_data(title="x" * 201, body="y" * 20_001, specialties=[psychiatry.pk]),
    )
    assert response.status_code == 400
    assert response.context["form"].has_error("title")
    assert response.context["form"].has_error("body")
    assert not Announcement.objects.exists()


def test_staff_of_another_society_cannot_see_edit_or_withdraw_the_announcements(client, society, other_staff):
    announcement = AnnouncementFactory(society=society, title="Наше объявление")
    other = other_staff.memberships.get().organization
    client.force_login(other_staff)

    pages = [
        ("get", reverse("societies:society_announcements", args=[society.pk])),
        ("get", reverse("societies:announcement_edit", args=[society.pk, announcement.pk])),
        ("post", reverse("societies:announcement_edit", args=[society.pk, announcement.pk])),
        ("post", reverse("societies:announcement_withdraw", args=[society.pk, announcement.pk])),
        # through their own society's address
        ("get", reverse("societies:announcement_edit", args=[other.pk, announcement.pk])),
        ("post", reverse("societies:announcement_edit", args=[other.pk, announcement.pk])),
        ("post", reverse("societies:announcement_withdraw", args=[other.pk, announcement.pk])),
    ]
    for method, url in pages:
        data = form_data(title="Чужое", specialties=[]) if method == "post" else None
        assert getattr(client, method)(url, data).status_code == 404, url

    for write in (
        lambda: announcement_withdraw(announcement=announcement, actor=other_staff),
        lambda: announcement_edit(
            announcement=announcement,
            actor=other_staff,
            title="Чужое",
            body="Чужое",
            specialties=list(announcement.specialties.all()),
            published_at=None,
            pinned=False,
        ),
    ):
        with pytest.raises(PortalError) as refused:
            write()
        assert refused.value.status == 404
    announcement.refresh_from_db()
    assert (announcement.title, announcement.withdrawn_at) == ("Наше объявление", None)
    assert not AuditEvent.objects.filter(action__startswith="announcement.").exists()


def test_a_doctor_and_a_provider_that_is_not_a_society_find_no_society_pages(client, society):
    provider_org = Organization.objects.create(
        name="Университет", kind=Organization.Kind.UNIVERSITY, inn="7711111111", email="u@example.org"
    )
    doctor = DoctorProfileFactory().user
    client.force_login(doctor)
    assert client.get(reverse("societies:society_announcements", args=[society.pk])).status_code == 404
    assert client.get(reverse("societies:announcement_new", args=[society.pk])).status_code == 404
    client.force_login(StaffFactory())  # even administrators: it is no society
    assert client.get(reverse("societies:society_announcements", args=[provider_org.pk])).status_code == 404


def test_an_unverified_society_cannot_publish(client, society, society_staff, psychiatry):
    society.status = Organization.Status.PENDING
    society.save()
    with pytest.raises(PortalError) as refused:
        announcement_publish(society=society, actor=society_staff, title="Рано", body="Текст", specialties=[psychiatry])
    assert refused.value.code == "organization_not_verified"
    client.force_login(society_staff)
    page = client.get(reverse("societies:society_announcements", args=[society.pk])).content.decode()
    assert "Общество сможет публиковать объявления после проверки администраторами портала." in page
    assert not Announcement.objects.exists()


def test_portal_administrators_keep_the_power_to_publish_and_withdraw(society, psychiatry):
    admin = StaffFactory()
    announcement = announcement_publish(
        society=society, actor=admin, title="От администрации", body="Текст", specialties=[psychiatry]
    )
    announcement_withdraw(announcement=announcement, actor=admin)
    announcement.refresh_from_db()
    assert announcement.is_withdrawn
    assert AuditEvent.objects.filter(action="announcement.withdraw", actor=admin).exists()


def test_an_edit_is_saved_and_audited_with_what_changed(client, society, society_staff, psychiatry, narcology):
    announcement = AnnouncementFactory(society=society, title="Старый заголовок")
    client.force_login(society_staff)
    edit_url = reverse("societies:announcement_edit", args=[society.pk, announcement.pk])
    assert 'value="Старый заголовок"' in client.get(edit_url).content.decode()

    response = client.post(
        edit_url, form_data(title="Новый заголовок", specialties=[psychiatry.pk, narcology.pk], pinned="on")
    )

    assert response.status_code == 302
    announcement.refresh_from_db()
    assert announcement.title == "Новый заголовок"
    assert announcement.pinned
    assert {s.code for s in announcement.specialties.all()} == {"31.08.20", "31.08.21"}
    audit = AuditEvent.objects.get(action="announcement.edit")
    assert set(audit.details["changed"]) == {"title", "body", "pinned", "specialties"}


def test_a_withdrawn_announcement_is_gone_for_readers_and_cannot_be_edited(client, society, society_staff, doctor):
    announcement = AnnouncementFactory(society=society, title="Отозванное объявление")
    client.force_login(society_staff)
    response = client.post(reverse("societies:announcement_withdraw", args=[society.pk, announcement.pk]))
    assert response.status_code == 302
    announcement.refresh_from_db()
    assert announcement.is_withdrawn

    with pytest.raises(PortalError) as refused:
        announcement_withdraw(announcement=announcement, actor=society_staff)
    assert (refused.value.code, refused.value.status) == ("announcement_withdrawn", 409)
    with pytest.raises(PortalError):
        announcement_edit(
            announcement=announcement,
            actor=society_staff,
            title="Снова",
            body="Снова",
            specialties=list(announcement.specialties.all()),
            published_at=None,
            pinned=False,
        )
    # the society still sees it, marked
    assert (
        "Отозванное объявление"
        in client.get(reverse("societies:announcement", args=[announcement.pk])).content.decode()
    )

    client.force_login(doctor)
    assert client.get(reverse("societies:announcement", args=[announcement.pk])).status_code == 404
    assert "Отозванное объявление" not in client.get(reverse("home")).content.decode()
    assert "Отозванное объявление" not in client.get(reverse("learning_plan:plan")).content.decode()


def test_a_scheduled_announcement_waits_for_its_time(client, society, society_staff, psychiatry, doctor):
    later = timezone.now() + timedelta(days=2)
    announcement = announcement_publish(
        society=society,
        actor=society_staff,
        title="Запланированное объявление",
        body="Текст",
        specialties=[psychiatry],
        published_at=later,
    )
    assert announcement.is_scheduled
    client.force_login(doctor)
    assert client.get(reverse("societies:announcement", args=[announcement.pk])).status_code == 404
    assert "Запланированное объявление" not in client.get(reverse("home")).content.decode()
    assert client.get("/api/v1/announcements/").json()["count"] == 0

    Announcement.objects.filter(pk=announcement.pk).update(published_at=timezone.now() - timedelta(minutes=1))
    assert client.get(reverse("societies:announcement", args=[announcement.pk])).status_code == 200
    assert "Запланированное объявление" in client.get(reverse("home")).content.decode()


def test_the_societys_list_shows_every_state_in_a_fixed_number_of_queries(
    client, society, society_staff, django_assert_max_num_queries
):
    for _ in range(12):
        AnnouncementFactory(society=society, specialties=[specialty("31.08.20"), specialty("31.08.21")])
    AnnouncementFactory(society=society, withdrawn_at=timezone.now())
    AnnouncementFactory(society=society, published_at=timezone.now() + timedelta(days=1))
    client.force_login(society_staff)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("societies:society_announcements", args=[society.pk]))
    text = page.content.decode()
    assert text.count("data-announcement=") == 14
    assert text.count(">отозвано<") == 1
    assert text.count(">запланировано<") == 1


def test_an_edit_that_sends_the_time_back_as_shown_keeps_the_moment(client, society, society_staff, psychiatry):
    announcement = AnnouncementFactory(society=society, published_at=timezone.now() - timedelta(days=3))
    moment = announcement.published_at
    client.force_login(society_staff)
    edit_url = reverse("societies:announcement_edit", args=[society.pk, announcement.pk])
    page = client.get(edit_url).content.decode()
    shown = re.search(r'name="published_at" value="([^"]+)"', page).group(1)  # as the browser sends it back
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", shown)

    client.post(edit_url, form_data(title="Поправлено", specialties=[psychiatry.pk], published_at=shown))

    announcement.refresh_from_db()
    assert (announcement.title, announcement.published_at) == ("Поправлено", moment)
    assert AuditEvent.objects.get(action="announcement.edit").details["changed"] == ["title", "body"]


def test_administrators_withdraw_in_admin_through_the_service(client, society):
    admin_user = StaffFactory()
    announcement = AnnouncementFactory(society=society)
    client.force_login(admin_user)
    changelist = reverse("admin:societies_announcement_changelist")
    assert client.get(changelist).status_code == 200
    assert client.get(reverse("admin:societies_announcement_add")).status_code == 403

    client.post(changelist, {"action": "withdraw", "_selected_action": [announcement.pk]})

    announcement.refresh_from_db()
    assert announcement.is_withdrawn
    assert AuditEvent.objects.filter(action="announcement.withdraw", actor=admin_user).exists()
