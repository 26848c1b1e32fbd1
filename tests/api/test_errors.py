from django.core.exceptions import ValidationError

from nmo_portal.api import exception_handler


def test_a_model_validation_error_becomes_a_400_in_the_one_error_shape():
    response = exception_handler(ValidationError({"__all__": ["Всё не так."], "venue": ["Укажите место."]}), {})

    assert response.status_code == 400
    assert response.data["error"]["code"] == "invalid"
    assert response.data["error"]["fields"] == {"non_field_errors": ["Всё не так."], "venue": ["Укажите место."]}
    assert response.data["error"]["message"] in {"Всё не так.", "Укажите место."}


def test_a_validation_error_without_fields_is_a_non_field_error():
    response = exception_handler(ValidationError("Нельзя."), {})

    assert response.status_code == 400
    assert response.data["error"] == {
        "code": "invalid",
        "message": "Нельзя.",
        "fields": {"non_field_errors": ["Нельзя."]},
    }
