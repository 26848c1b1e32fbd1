"""A completion credited, reversed when its СНИЛС left the doctor's profile, and claimed again by the same doctor
once the СНИЛС is back and confirmed: credited once more, and the profile keeps saving.

Transactional: what a profile save sets off (`doctor_identified`) runs when the save commits, inside the
request, as it does in production."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import snils_confirm, snils_unconfirm
from credits.models import CreditEntry
from learning_plan import services as plan_services
from modules.models import ModuleCompletion
from modules.services import completion_report

from ..factories import StaffFactory, UserFactory
from .conftest import ANOTHER_UNREGISTERED_SNILS, UNREGISTERED_SNILS

pytestmark = pytest.mark.django_db(transaction=True)


def save_profile(client, psychiatry, snils):
    """The profile page's form, followed to the page it leads to: saved, it redirects to the profile."""
    response = client.post(
        reverse("accounts:profile"),
        {
            "last_name": "Новикова",
            "first_name": "Анна",
            "middle_name": "Сергеевна",
            "language": "ru",
            "timezone_name": "Europe/Moscow",
            "specialties": [psychiatry.pk],
            "snils": snils,
        },
        follow=True,
    )
    assert response.redirect_chain == [(reverse("accounts:profile"), 302)], response.content.decode()
    assert "Профиль сохранён" in response.content.decode()
    return response


def ledger(doctor):
    return list(CreditEntry.objects.filter(doctor=doctor).values_list("kind", "credits", "credit_number"))


def test_a_completion_reversed_and_claimed_again_credits_again_and_the_profile_keeps_saving(
    client, module, membership, psychiatry
):
    completion, _created = completion_report(
        module=module,
        actor=membership.user,
        external_id="lms-1",
        completed_at=timezone.now() - timedelta(days=1),
        snils=UNREGISTERED_SNILS,
    )
    doctor = UserFactory()
    plan_services.cycle_add(doctor=doctor, specialty=psychiatry, starts_on=timezone.localdate() - timedelta(days=365))
    client.force_login(doctor)
    assert save_profile(client, psychiatry, UNREGISTERED_SNILS).status_code == 200
    snils_confirm(user=doctor, snils=UNREGISTERED_SNILS)  # the Ministry link
    assert ledger(doctor) == [("credit", 6, 1)]
    # The administrators reset the link; the doctor changes the СНИЛС, then finds it was right and puts it back.
    snils_unconfirm(user=doctor, actor=StaffFactory())
    assert save_profile(client, psychiatry, ANOTHER_UNREGISTERED_SNILS).status_code == 200
    assert ledger(doctor) == [("credit", 6, 1), ("reversal", -6, 1)]
    assert save_profile(client, psychiatry, UNREGISTERED_SNILS).status_code == 200

    snils_confirm(user=doctor, snils=UNREGISTERED_SNILS)  # linked again: the held completion is claimed

    assert ledger(doctor) == [("credit", 6, 1), ("reversal", -6, 1), ("credit", 6, 2)]
    completion.refresh_from_db()
    assert (completion.doctor, completion.matched_by) == (doctor, ModuleCompletion.MatchedBy.SNILS)
    # every save claims what is held for the doctor: nothing now, and the page answers as always
    assert save_profile(client, psychiatry, UNREGISTERED_SNILS).status_code == 200
    assert ledger(doctor) == [("credit", 6, 1), ("reversal", -6, 1), ("credit", 6, 2)]
    plan = client.get(reverse("api:api-learning_plan:plan")).json()
    (cycle,) = plan["cycles"]
    assert [(r["title"], r["credits"]) for r in cycle["records"]] == [(module.title, 6)]
