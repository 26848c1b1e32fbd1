import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import DoctorProfile
from accounts.services import doctor_profile_update
from accounts.snils import format_snils, normalize_snils, snils_control, validate_snils
from nmo_portal.errors import PortalError

from ..factories import DoctorProfileFactory, UserFactory


@pytest.mark.parametrize("value", ["11223344595", "112-233-445 95", "112 233 445 95", " 112-233-445-95 "])
def test_valid_snils_is_accepted_with_or_without_separators(value):
    validate_snils(value)
    assert normalize_snils(value) == "11223344595"


def test_control_sum_follows_the_modulo_101_rule():
    assert snils_control("112233445") == "95"
    # sums of 100 and 101 are written 00; above 101 they are taken modulo 101
    assert snils_control("920000100") == "00"  # 9·9 + 2·8 + 1·3 = 100
    assert snils_control("920000101") == "00"  # 101
    assert snils_control("999999999") == "01"  # 405 mod 101


@pytest.mark.parametrize("value", ["11223344596", "112-233-445 00", "11223344559"])
def test_snils_with_a_wrong_control_sum_is_refused(value):
    with pytest.raises(ValidationError) as info:
        validate_snils(value)
    assert info.value.code == "snils_control"


@pytest.mark.parametrize("value", ["1122334459", "112233445951", "", "1122334459a", "١١٢٢٣٣٤٤٥٩٥"])
def test_snils_of_a_wrong_length_or_with_letters_is_refused(value):
    with pytest.raises(ValidationError) as info:
        validate_snils(value)
    assert info.value.code == "snils_length"


def test_numbers_issued_before_the_control_sum_are_accepted():
    validate_snils("001-001-998 12")


def test_snils_is_shown_in_the_usual_grouping():
    assert format_snils("11223344595") == "112-233-445 95"


@pytest.mark.django_db
def test_a_snils_confirmed_for_one_account_is_refused_to_another():
    DoctorProfileFactory(snils="11223344595", snils_confirmed_at=timezone.now())
    other = UserFactory()
    with pytest.raises(PortalError) as info:
        doctor_profile_update(
            user=other, last_name="А", first_name="Б", middle_name="", snils="112-233-445 95", specialties=[]
        )
    assert info.value.code == "snils_taken"
    assert not DoctorProfile.objects.filter(user=other, snils__isnull=False).exists()


@pytest.mark.django_db
def test_profile_page_saves_a_valid_snils_and_shows_an_error_for_a_bad_one(client, psychiatry):
    user = UserFactory()
    client.force_login(user)
    url = reverse("accounts:profile")
    base = {
        "last_name": "Иванова",
        "first_name": "Мария",
        "middle_name": "",
        "language": "ru",
        "timezone_name": "Europe/Moscow",
        "specialties": [psychiatry.pk],
    }

    response = client.post(url, {**base, "snils": "112-233-445 96"})
    assert response.status_code == 200
    assert "контрольн" in response.content.decode()  # the Russian message about the control sum
    assert not DoctorProfile.objects.filter(user=user, snils__isnull=False).exists()

    response = client.post(url, {**base, "snils": "112-233-445 95"})
    assert response.status_code == 302
    profile = DoctorProfile.objects.get(user=user)
    assert profile.snils == "11223344595"
    assert list(profile.specialties.all()) == [psychiatry]


@pytest.mark.django_db
def test_profile_page_refuses_a_snils_confirmed_for_another_account_with_a_clear_message(client):
    DoctorProfileFactory(snils="11223344595", snils_confirmed_at=timezone.now())
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:profile"),
        {
            "last_name": "Иванова",
            "first_name": "Мария",
            "middle_name": "",
            "snils": "11223344595",
            "language": "ru",
            "timezone_name": "Europe/Moscow",
        },
    )
    assert response.status_code == 200
    assert "подтверждён порталом Минздрава для другой учётной записи" in response.content.decode()


@pytest.mark.django_db
def test_the_profile_page_says_whether_the_snils_is_confirmed(client):
    typed = DoctorProfileFactory(snils="11223344595").user
    confirmed = DoctorProfileFactory(snils_confirmed_at=timezone.now()).user

    client.force_login(typed)
    typed_page = client.get(reverse("accounts:profile")).content.decode()
    client.force_login(confirmed)
    confirmed_page = client.get(reverse("accounts:profile")).content.decode()

    assert "Ещё не подтверждён" in typed_page
    assert "Подтверждён порталом Минздрава" in confirmed_page
