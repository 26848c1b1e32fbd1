"""The doctor's status pages: the programmes, where a doctor stands and applying, my applications and statuses, one
application with its frozen portfolio, withdrawing, the consent to be named; and the navigation's links."""

from datetime import date, timedelta

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from statuses import services
from statuses.models import Status, StatusApplication

from ..factories import CommissionMemberFactory, StaffFactory, UserFactory, WorkRecordFactory

pytestmark = pytest.mark.django_db


def text(response):
    return response.content.decode()


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def submit(doctor, programme, specialty, **kwargs):
    return services.application_submit(doctor=doctor, programme=programme, specialty=specialty, **kwargs)


def award(doctor, member, programme, specialty, **kwargs):
    """An application through every stage to the award, as the commission records it."""
    application = submit(doctor, programme, specialty, **kwargs)
    day = timezone.localdate()
    for stage in programme.stages.order_by("position"):
        result = {"score": "85"} if stage.is_scored else {"passed": True}
        services.stage_result_record(application=application, stage=stage, user=member, held_on=day, **result)
    services.application_decide(application=application, user=member, award=True)
    return Status.objects.get(application=application)


# The programmes -----------------------------------------------------------------------------------------------


def test_the_programme_list_shows_what_a_programme_takes_and_brings_to_anyone(
    client, moscow_doctor_programme, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        response = client.get(reverse("statuses:programmes"))

    assert response.status_code == 200
    page = text(response)
    assert "Московский врач" in page
    assert "Департамент здравоохранения города Москвы" in page
    assert 'data-region="77">Москва' in page
    assert "31.08.20 Психиатрия" in page
    assert "Тестирование (теоретический этап)" in page
    assert "80% и более" in page
    assert "Собеседование и защита профессионального портфолио" in page
    assert "5 лет, затем подтверждается" in page
    assert "15\xa0000 ₽ в месяц за специальность (показывается, не выплачивается порталом)" in page
    assert "365 дней" in page


def copy_of(programme, slug):
    """Another active programme with the same specialties and stages."""
    stages = list(programme.stages.all())
    specialties = list(programme.specialties.all())
    programme.pk = None
    programme.slug = slug
    programme.number_prefix = slug[-10:]  # unique to each programme
    programme.save()
    programme.specialties.set(specialties)
    for stage in stages:
        stage.pk = None
        stage.programme = programme
        stage.save()
    return programme


def test_the_programme_list_asks_no_more_queries_for_more_programmes(
    client, moscow_doctor_programme, django_assert_max_num_queries
):
    for n in range(5):
        copy_of(moscow_doctor_programme, f"copy-{n}")

    with django_assert_max_num_queries(6):
        response = client.get(reverse("statuses:programmes"))

    assert text(response).count("data-programme=") == 6


def test_an_inactive_programme_is_not_listed(client, moscow_doctor_programme):
    moscow_doctor_programme.is_active = False
    moscow_doctor_programme.save()

    response = client.get(reverse("statuses:programmes"))

    assert "Московский врач" not in text(response)


def test_an_anonymous_visitor_sees_the_programme_and_is_asked_to_sign_in_without_a_form(client):
    response = client.get(reverse("statuses:programme", args=["moscow-doctor"]))

    assert response.status_code == 200
    assert "Московский врач" in text(response)
    assert reverse("account_login") in text(response)
    assert reverse("statuses:apply", args=["moscow-doctor"]) not in text(response)


def test_an_unknown_programme_is_404(client):
    assert client.get(reverse("statuses:programme", args=["nothing"])).status_code == 404


def test_an_eligible_doctor_sees_the_apply_form_for_their_specialty(client, eligible_doctor):
    client.force_login(eligible_doctor)

    response = client.get(reverse("statuses:programme", args=["moscow-doctor"]))

    page = text(response)
    assert 'data-specialty="31.08.20" data-eligible="yes"' in page
    assert "Можно подать заявление" in page
    assert reverse("statuses:apply", args=["moscow-doctor"]) in page
    assert "Согласен(на) на указание ФИО в открытом реестре" in page
    assert "Подать заявление" in page
    assert 'data-specialty="31.08.36"' not in page  # cardiology: not one of the doctor's specialties


def test_a_doctor_short_of_practice_sees_what_is_missing_and_where_to_fix_it_and_no_form(client, doctor):
    WorkRecordFactory(doctor=doctor, started_on=timezone.localdate() - timedelta(days=800), ended_on=None)
    client.force_login(doctor)

    response = client.get(reverse("statuses:programme", args=["moscow-doctor"]))

    page = text(response)
    assert 'data-eligible="no"' in page
    assert 'data-missing="practice_short"' in page
    assert 'data-missing="document_missing"' in page
    assert 'data-missing="employment_in_region_missing"' not in page
    assert f"{reverse('accounts:profile')}#work-history" in page
    assert f"{reverse('learning_plan:portfolio', args=['31.08.20'])}#document" in page
    assert reverse("statuses:apply", args=["moscow-doctor"]) not in page


def test_a_doctor_with_an_open_application_sees_it_instead_of_the_form(
    client, eligible_doctor, moscow_doctor_programme, psychiatry
):
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    client.force_login(eligible_doctor)

    page = text(client.get(reverse("statuses:programme", args=["moscow-doctor"])))

    assert reverse("statuses:application", args=[application.pk]) in page
    assert "Подать заявление" not in page


def test_a_signed_in_person_who_is_not_a_doctor_is_told_to_fill_in_the_profile(client, user):
    client.force_login(user)

    page = text(client.get(reverse("statuses:programme", args=["moscow-doctor"])))

    assert "СНИЛС" in page
    assert "Подать заявление" not in page


# Applying -----------------------------------------------------------------------------------------------------


def test_applying_opens_the_application_and_shows_it(
    client, eligible_doctor, psychiatry, django_capture_on_commit_callbacks
):
    client.force_login(eligible_doctor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("statuses:apply", args=["moscow-doctor"]), {"specialty": "31.08.20", "public_consent": "on"}
        )

    application = StatusApplication.objects.get(doctor=eligible_doctor)
    assert response.status_code == 302
    assert response["Location"] == reverse("statuses:application", args=[application.pk])
    assert application.specialty == psychiatry
    assert application.public_consent is True
    assert [m.to for m in mail.outbox] == [[eligible_doctor.email]]
    page = text(client.get(response["Location"]))
    assert "Тестирование (теоретический этап)" in page
    assert "Отозвать заявление" in page


def test_consent_is_not_given_unless_ticked(client, eligible_doctor):
    client.force_login(eligible_doctor)

    client.post(reverse("statuses:apply", args=["moscow-doctor"]), {"specialty": "31.08.20"})

    assert StatusApplication.objects.get(doctor=eligible_doctor).public_consent is False


@pytest.mark.parametrize("code", ["", "99.99.99", "x" * 300])
def test_applying_in_no_known_specialty_writes_nothing(client, eligible_doctor, code):
    client.force_login(eligible_doctor)

    response = client.post(reverse("statuses:apply", args=["moscow-doctor"]), {"specialty": code})

    assert response.status_code == 302
    assert response["Location"] == reverse("statuses:programme", args=["moscow-doctor"])
    assert messages_of(response) == ["Выберите специальность программы."]
    assert not StatusApplication.objects.exists()


def test_applying_in_a_specialty_the_programme_does_not_offer_is_refused(client, eligible_doctor):
    client.force_login(eligible_doctor)

    response = client.post(reverse("statuses:apply", args=["moscow-doctor"]), {"specialty": "31.08.01"})

    assert response["Location"] == reverse("statuses:programme", args=["moscow-doctor"])
    assert messages_of(response) == ["Программа не присваивает статус по этой специальности."]
    assert not StatusApplication.objects.exists()


def test_applying_needs_a_post_a_sign_in_and_a_doctor(client, user, eligible_doctor):
    url = reverse("statuses:apply", args=["moscow-doctor"])

    assert client.post(url, {"specialty": "31.08.20"}).status_code == 302  # to the sign-in page
    client.force_login(user)
    assert client.post(url, {"specialty": "31.08.20"}).status_code == 403
    client.force_login(eligible_doctor)
    assert client.get(url).status_code == 405
    assert not StatusApplication.objects.exists()


# My applications and statuses ---------------------------------------------------------------------------------


def test_my_page_shows_applications_with_their_stages(
    client, eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    stage = moscow_doctor_programme.stages.get(position=1)
    services.stage_schedule(
        application=application,
        stage=stage,
        user=commission_member,
        scheduled_at=timezone.now() + timedelta(days=3),
        place="Москва, ул. Шарикоподшипниковская, 9",
    )
    services.stage_result_record(
        application=application, stage=stage, user=commission_member, held_on=timezone.localdate(), score="92.5"
    )
    client.force_login(eligible_doctor)

    page = text(client.get(reverse("statuses:mine")))

    assert f'data-application="{application.pk}" data-state="open"' in page
    assert "Идёт оценка" in page
    assert "92,50%" in page
    assert "пройден" in page
    assert "дата ещё не назначена" in page


def test_my_page_shows_a_status_with_its_certificate_check_page_and_consent(
    client, eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    status = award(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry)
    client.force_login(eligible_doctor)

    page = text(client.get(reverse("statuses:mine")))

    assert f'data-status="{status.number}" data-state="valid"' in page
    assert reverse("statuses:certificate", args=[status.pk]) in page
    assert reverse("statuses:check", args=[status.check_token]) in page
    assert reverse("statuses:consent", args=[status.pk]) in page
    assert "Показать моё имя" in page
    assert "data-renewal" not in page  # five years to go


def test_my_page_shows_expired_and_revoked_statuses_as_such_and_offers_renewal_in_its_window(
    client, eligible_doctor, commission_member, moscow_doctor_programme, psychiatry, cardiology
):
    status = award(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry)
    day = timezone.localdate()
    Status.objects.filter(pk=status.pk).update(awarded_on=day - timedelta(days=1900), expires_on=day)
    client.force_login(eligible_doctor)

    page = text(client.get(reverse("statuses:mine")))

    assert 'data-state="expired"' in page
    assert "Истёк" in page
    assert "data-renewal" not in page  # an expired status is not renewed: the doctor applies afresh

    Status.objects.filter(pk=status.pk).update(expires_on=day + timedelta(days=60))
    assert "data-renewal" in text(client.get(reverse("statuses:mine")))  # inside six months of expiry

    services.status_revoke(status=status, actor=StaffFactory(), reason="Ошибка в документах")
    page = text(client.get(reverse("statuses:mine")))
    assert 'data-state="revoked"' in page
    assert "data-renewal" not in page
    assert reverse("statuses:certificate", args=[status.pk]) not in page


def test_my_page_asks_no_more_queries_for_more_applications_and_statuses(
    client, eligible_doctor, commission_member, moscow_doctor_programme, psychiatry, django_assert_max_num_queries
):
    client.force_login(eligible_doctor)
    for _ in range(3):
        application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
        services.application_withdraw(application=application, doctor=eligible_doctor)
    award(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry)

    with django_assert_max_num_queries(10):
        response = client.get(reverse("statuses:mine"))

    assert text(response).count("data-application=") == 4
    assert text(response).count("data-status=") == 1


def test_my_page_needs_a_sign_in(client):
    response = client.get(reverse("statuses:mine"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# One application ----------------------------------------------------------------------------------------------


def test_my_application_shows_the_portfolio_as_it_was_frozen(
    client, eligible_doctor, moscow_doctor_programme, psychiatry
):
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    document = eligible_doctor.accreditation_documents.get()
    WorkRecordFactory(doctor=eligible_doctor, employer="ГБУЗ «Новое место»", started_on=date(2026, 1, 1), ended_on=None)
    client.force_login(eligible_doctor)

    page = text(client.get(reverse("statuses:application", args=[application.pk])))

    assert document.number in page
    assert "Психиатрическая клиническая больница № 1" in page
    assert "Новое место" not in page  # added after submission
    assert "6 лет" in page


def test_another_doctors_application_is_404_and_cannot_be_withdrawn(
    client, eligible_doctor, doctor, moscow_doctor_programme, psychiatry
):
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    client.force_login(doctor)

    assert client.get(reverse("statuses:application", args=[application.pk])).status_code == 404
    assert client.post(reverse("statuses:withdraw", args=[application.pk])).status_code == 404
    application.refresh_from_db()
    assert application.is_open


def test_withdrawing_closes_my_open_application(
    client, eligible_doctor, moscow_doctor_programme, psychiatry, django_capture_on_commit_callbacks
):
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    client.force_login(eligible_doctor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("statuses:withdraw", args=[application.pk]))

    assert response["Location"] == reverse("statuses:application", args=[application.pk])
    application.refresh_from_db()
    assert application.state == StatusApplication.State.WITHDRAWN
    assert len(mail.outbox) == 1
    assert "Отозвать заявление" not in text(client.get(response["Location"]))


def test_withdrawing_after_the_decision_is_refused_with_a_message(
    client, eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    status = award(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry)
    client.force_login(eligible_doctor)

    response = client.post(reverse("statuses:withdraw", args=[status.application_id]))

    assert messages_of(response) == ["Заявление закрыто: Статус присвоен."]
    status.application.refresh_from_db()
    assert status.application.state == StatusApplication.State.AWARDED


def test_withdrawing_is_post_only(client, eligible_doctor, moscow_doctor_programme, psychiatry):
    application = submit(eligible_doctor, moscow_doctor_programme, psychiatry)
    client.force_login(eligible_doctor)

    assert client.get(reverse("statuses:withdraw", args=[application.pk])).status_code == 405
    application.refresh_from_db()
    assert application.is_open


# Consent to be named ------------------------------------------------------------------------------------------


def test_the_holder_shows_and_hides_their_name(
    client, eligible_doctor, commission_member, moscow_doctor_programme, psychiatry
):
    status = award(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry)
    client.force_login(eligible_doctor)
    url = reverse("statuses:consent", args=[status.pk])

    client.post(url, {"public": "1"})
    status.refresh_from_db()
    assert status.public_consent is True

    client.post(url, {"public": "0"})
    status.refresh_from_db()
    assert status.public_consent is False


def test_consent_of_another_holder_is_404_and_a_bad_value_changes_nothing(
    client, eligible_doctor, doctor, commission_member, moscow_doctor_programme, psychiatry
):
    status = award(eligible_doctor, commission_member, moscow_doctor_programme, psychiatry, public_consent=True)
    url = reverse("statuses:consent", args=[status.pk])
    client.force_login(doctor)
    assert client.post(url, {"public": "0"}).status_code == 404

    client.force_login(eligible_doctor)
    assert client.get(url).status_code == 405
    client.post(url, {"public": "maybe"})
    status.refresh_from_db()
    assert status.public_consent is True


# The navigation -----------------------------------------------------------------------------------------------


def nav_link(page, name):
    start = page.index(f'data-nav="{name}"')
    return page[page.rindex("<a ", 0, start) : start]


def test_the_navigation_leads_a_doctor_to_their_statuses_and_anyone_else_to_the_programmes(
    client, eligible_doctor, user
):
    assert reverse("statuses:programmes") in nav_link(text(client.get(reverse("home"))), "statuses")
    client.force_login(user)
    assert reverse("statuses:programmes") in nav_link(text(client.get(reverse("home"))), "statuses")
    client.force_login(eligible_doctor)
    assert reverse("statuses:mine") in nav_link(text(client.get(reverse("home"))), "statuses")


def test_the_navigation_shows_the_commission_to_a_seated_member_only(client, commission_member, user):
    client.force_login(user)
    assert 'data-nav="commission"' not in text(client.get(reverse("home")))

    client.force_login(commission_member)
    assert reverse("statuses:commission_queue") in nav_link(text(client.get(reverse("home"))), "commission")

    seat = commission_member.commission_seats.get()
    services.commission_member_retire(member=seat, actor=StaffFactory())
    assert 'data-nav="commission"' not in text(client.get(reverse("home")))


def test_the_navigation_asks_one_query_for_the_commission_seat(client, django_assert_num_queries):
    member = CommissionMemberFactory(user=UserFactory())
    client.force_login(member.user)
    from statuses.context_processors import commission

    request = client.get(reverse("home")).wsgi_request
    del request._commission_seat
    with django_assert_num_queries(1):
        assert commission(request) == {"commission_seat": True}
    with django_assert_num_queries(0):
        assert commission(request) == {"commission_seat": True}
