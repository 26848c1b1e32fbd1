"""The whole-event certificates file: private storage, served only to whoever may see it, stale after a code
changes, and asked for without a 500 when the broker is down."""

from datetime import timedelta

import pytest
from django.core.files.storage import storages
from django.urls import reverse
from django.utils import formats, timezone

from codes import issuance, services
from codes.certificates import build_missed_certificates
from codes.models import EventCertificatesFile, IcpCode
from nmo_portal.celery import app as celery_app

from ..factories import EventFactory, MembershipFactory
from ..pdf import page_count

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return EventFactory(organization=MembershipFactory().organization, approved=True)


def provider_of(event):
    return event.organization.memberships.get().user


@pytest.fixture
def built(event, client, django_capture_on_commit_callbacks):
    """Ten codes issued and the file asked for from the codes page (built in-process on commit)."""
    issuance.codes_issue(event=event, actor=provider_of(event), count=10)
    client.force_login(provider_of(event))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("codes:event_certificates", args=[event.pk]))
    assert response.status_code == 302
    client.logout()
    return EventCertificatesFile.objects.get(event=event)


def test_the_event_file_is_written_to_the_private_storage_under_an_unguessable_name(built, event):
    assert built.state == EventCertificatesFile.State.READY
    assert built.file_name.startswith(f"certificates/event-{event.pk}-")
    assert len(built.file_name) > len(f"certificates/event-{event.pk}-.pdf") + 20  # a random part
    with storages["private"].open(built.file_name, "rb") as file:
        assert page_count(file.read()) == 10


def test_the_provider_downloads_the_file_through_the_view(built, event, client):
    client.force_login(provider_of(event))
    response = client.get(reverse("codes:event_certificates", args=[event.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="certificates-event-{event.pk}.pdf"'
    assert page_count(b"".join(response.streaming_content)) == 10


def test_portal_staff_download_the_file(built, event, client, staff):
    client.force_login(staff)
    assert client.get(reverse("codes:event_certificates", args=[event.pk])).status_code == 200


def test_an_anonymous_visitor_and_another_provider_do_not_get_the_file(built, event, client):
    url = reverse("codes:event_certificates", args=[event.pk])
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("account_login"))

    client.force_login(MembershipFactory().user)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


def test_nothing_is_served_under_media(built, event, client, staff):
    client.force_login(staff)
    assert client.get(f"/media/certificates/event-{event.pk}.pdf").status_code == 404
    assert client.get(f"/media/{built.file_name}").status_code == 404


def test_revoking_a_code_marks_the_file_stale_and_the_page_shows_when_it_was_built(built, event, client):
    client.force_login(provider_of(event))
    page = client.get(reverse("codes:event_codes", args=[event.pk])).content.decode()
    built_at = formats.date_format(timezone.localtime(built.built_at), "DATETIME_FORMAT")
    assert f"Файл со всеми свидетельствами собран {built_at}" in page
    assert "пересоберите" not in page

    code = IcpCode.objects.filter(event=event).first()
    services.code_revoke(code=code, actor=provider_of(event), reason="Не пришёл")

    page = client.get(reverse("codes:event_codes", args=[event.pk])).content.decode()
    assert "С тех пор коды выдавались или отзывались: пересоберите его." in page


def test_issuing_more_codes_marks_the_file_stale_and_a_rebuild_makes_it_current(
    built, event, client, django_capture_on_commit_callbacks
):
    from codes.certificates import certificates_file_is_stale

    issuance.codes_issue(event=event, actor=provider_of(event), count=2)
    assert certificates_file_is_stale(EventCertificatesFile.objects.get(event=event))
    client.force_login(provider_of(event))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("codes:event_certificates", args=[event.pk]))
    record = EventCertificatesFile.objects.get(event=event)
    assert not certificates_file_is_stale(record)
    assert not storages["private"].exists(built.file_name)
    with storages["private"].open(record.file_name, "rb") as file:
        assert page_count(file.read()) == 12


@pytest.fixture
def broker_down():
    """The Celery broker at a port where nothing listens, and tasks sent to it rather than run in-process."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    conf.broker_url, conf.task_always_eager = "redis://127.0.0.1:9/0", False
    celery_app._pool = None
    yield
    conf.broker_url, conf.task_always_eager = saved
    celery_app._pool = None


def test_asking_for_the_file_with_the_broker_down_redirects_and_the_sweep_builds_it_later(
    event, client, broker_down, django_capture_on_commit_callbacks, settings
):
    issuance.codes_issue(event=event, actor=provider_of(event), count=3)
    client.force_login(provider_of(event))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("codes:event_certificates", args=[event.pk]), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("codes:event_codes", args=[event.pk])
    record = EventCertificatesFile.objects.get(event=event)
    assert record.state == EventCertificatesFile.State.QUEUED  # the request is kept
    assert not record.file_name

    celery_app.conf.task_always_eager = True  # the broker is back (tasks run in-process here)
    settings.CERTIFICATES_BUILD_GRACE_SECONDS = 0
    EventCertificatesFile.objects.filter(pk=record.pk).update(requested_at=timezone.now() - timedelta(days=1))
    assert build_missed_certificates() == 1
    record.refresh_from_db()
    assert record.state == EventCertificatesFile.State.READY
    with storages["private"].open(record.file_name, "rb") as file:
        assert page_count(file.read()) == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_without_a_worker_the_file_is_built_in_the_request_and_the_page_says_it_is_ready(event, client):
    issuance.codes_issue(event=event, actor=provider_of(event), count=2)
    client.force_login(provider_of(event))
    response = client.post(reverse("codes:event_certificates", args=[event.pk]), follow=True)
    assert [str(message) for message in response.context["messages"]] == ["Файл со всеми свидетельствами готов."]
    assert "Все свидетельства (PDF)" in response.content.decode()
    assert "Готовится новый файл" not in response.content.decode()


def test_a_file_left_to_the_worker_is_reported_asked_for_and_its_state_can_be_followed(
    event, client, django_capture_on_commit_callbacks
):
    issuance.codes_issue(event=event, actor=provider_of(event), count=2)
    client.force_login(provider_of(event))
    state_url = reverse("codes:event_certificates_state", args=[event.pk])
    assert client.get(state_url).json() == {"state": "", "state_label": ""}
    with django_capture_on_commit_callbacks(execute=False):  # the worker has not started it yet
        response = client.post(reverse("codes:event_certificates", args=[event.pk]), follow=True)
    assert [str(message) for message in response.context["messages"]] == [
        "Файл со всеми свидетельствами заказан; ссылка на него появится здесь, как только он будет собран."
    ]
    page = response.content.decode()
    assert 'data-certificates-state="queued"' in page
    assert '<script src="/static/js/certificates_progress.js" defer></script>' in page
    assert client.get(state_url).json() == {"state": "queued", "state_label": "В очереди"}


def test_only_the_events_provider_and_staff_follow_the_file_s_state(event, client, provider):
    client.force_login(provider)  # a member of another organization
    response = client.get(reverse("codes:event_certificates_state", args=[event.pk]))
    assert response.status_code == 404
