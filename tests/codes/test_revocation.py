import pytest

from codes import services
from codes.models import IcpCode
from credits.models import CreditEntry
from nmo_portal.errors import PermissionDenied, PortalError

pytestmark = pytest.mark.django_db


def test_provider_revokes_an_unused_code_with_a_reason(ended_event, make_codes):
    (code,) = make_codes(ended_event)
    provider = ended_event.organization.memberships.get().user
    with pytest.raises(PortalError):
        services.code_revoke(code=code, actor=provider, reason=" ")
    services.code_revoke(code=code, actor=provider, reason="Ошибочно выдан")
    code.refresh_from_db()
    assert (code.status, code.revoke_reason, code.revoked_by) == (IcpCode.Status.REVOKED, "Ошибочно выдан", provider)


def test_provider_cannot_revoke_an_activated_code_but_staff_can_and_the_credit_is_reversed(
    ended_event, make_codes, doctor, staff, mailoutbox, django_capture_on_commit_callbacks
):
    (code,) = make_codes(ended_event)
    services.code_activate(user=doctor, raw=code.code, ip=None)
    provider = ended_event.organization.memberships.get().user
    with pytest.raises(PermissionDenied):
        services.code_revoke(code=code, actor=provider, reason="Передумали")
    with django_capture_on_commit_callbacks(execute=True):
        services.code_revoke(code=code, actor=staff, reason="Свидетельство выдано по ошибке")
    entries = list(CreditEntry.objects.filter(doctor=doctor).order_by("id").values_list("kind", "credits"))
    assert entries == [("credit", 12), ("reversal", -12)]
    assert sum(credits for _, credits in entries) == 0
    assert [m.to for m in mailoutbox] == [[doctor.email]]
    assert "по ошибке" in mailoutbox[0].body


def test_a_stranger_cannot_revoke(ended_event, make_codes, doctor):
    (code,) = make_codes(ended_event)
    with pytest.raises(PermissionDenied):
        services.code_revoke(code=code, actor=doctor, reason="Хочу")
    code.refresh_from_db()
    assert code.status == IcpCode.Status.ISSUED


def test_the_ledger_is_append_only(ended_event, make_codes, doctor):
    (code,) = make_codes(ended_event)
    entry = services.code_activate(user=doctor, raw=code.code, ip=None)
    entry.credits = 100
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    entry.refresh_from_db()
    assert entry.credits == 12


def test_the_check_page_shows_the_activating_doctors_own_name_only_when_they_agree(
    client, ended_event, make_codes, doctor
):
    """The name on the check page is the activating account's, never the one in the provider's list."""
    from django.urls import reverse

    (code,) = make_codes(ended_event, holder_name="Кузнецова Анна Петровна")
    url = reverse("codes:verify", args=[code.verify_token])
    page = client.get(url).content.decode()
    assert ended_event.title in page
    assert "Кузнецова" not in page
    services.code_activate(user=doctor, raw=code.code, ip=None)
    assert doctor.full_name not in client.get(url).content.decode()  # not before the doctor agrees
    client.force_login(doctor)
    client.post(reverse("codes:name_visibility", args=[code.pk]), {"show": "1"})
    client.logout()
    page = client.get(url).content.decode()
    assert doctor.full_name in page
    assert "Кузнецова" not in page
    stranger = client.get(reverse("codes:verify", args=["not-a-token"]))
    assert stranger.status_code == 404


def test_only_the_activating_doctor_changes_name_visibility(client, ended_event, make_codes, doctor, psychiatry):
    from django.urls import reverse

    from ..factories import DoctorProfileFactory

    (code,) = make_codes(ended_event)
    services.code_activate(user=doctor, raw=code.code, ip=None)
    client.force_login(DoctorProfileFactory(specialties=[psychiatry]).user)
    assert client.post(reverse("codes:name_visibility", args=[code.pk]), {"show": "1"}).status_code == 404
    code.refresh_from_db()
    assert code.show_holder_name is False
