"""The catalogue's provider filter in a browser: typing a part of a name brings the providers that have it as the
box's own suggestions (a <datalist> filled by static/js/provider_suggestions.js, under the portal's
Content-Security-Policy), and the name picked finds that provider's events alone; a link of the former list of
providers (`?provider=<id>`) shows the provider by name."""

import pytest

from ..factories import EventFactory, OrganizationFactory, moscow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_provider_is_found_by_typing_a_part_of_its_name(page, assert_accessible, screenshot):
    first = OrganizationFactory(name="ГКБ № 1 имени Пирогова", short_name="ГКБ № 1")
    fifteenth = OrganizationFactory(name="ГКБ № 15 имени Филатова", short_name="ГКБ № 15")
    OrganizationFactory(name="Кардиологический центр", short_name="")
    EventFactory(approved=True, title="Школа Пироговки", organization=first, starts_at=moscow(10))
    EventFactory(approved=True, title="Школа Филатовки", organization=fifteenth, starts_at=moscow(11))
    EventFactory(approved=True, title="Чужая школа", starts_at=moscow(12))

    page.goto("/catalog/events/")
    assert_accessible()
    box = page.get_by_label("Провайдер")
    box.press_sequentially("гкб")
    page.wait_for_function("() => document.getElementById('id_provider_suggestions').options.length === 2")
    suggested = page.eval_on_selector_all("#id_provider_suggestions option", "options => options.map(o => o.value)")
    assert suggested == ["ГКБ № 1 имени Пирогова", "ГКБ № 15 имени Филатова"]
    screenshot("catalogue-provider-suggestions")

    box.fill(suggested[0])  # what picking the suggestion puts in the box
    box.press("Enter")
    page.wait_for_url("**/catalog/events/?*provider=*")
    assert_accessible()
    titles = page.locator(".catalog-item h2").all_inner_texts()
    assert titles == ["Школа Пироговки"]

    page.goto(f"/catalog/events/?provider={fifteenth.pk}")
    assert_accessible()
    assert page.get_by_label("Провайдер").input_value() == "ГКБ № 15 имени Филатова"
    assert page.locator(".catalog-item h2").all_inner_texts() == ["Школа Филатовки"]
