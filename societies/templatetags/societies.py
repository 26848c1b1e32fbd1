"""What pages of lower apps show of the announcements (the home page of nmo_portal, the plan of learning_plan): a
template tag, so that those apps need not import this one; and the filters that show an announcement's text.

    {% load societies %}{% announcements_for user limit=3 %}
    {{ announcement.body|announcement_html }}   {{ announcement.body|announcement_excerpt }}
"""

from typing import Any

from django import template
from django.utils.safestring import SafeString

from societies import selectors, text

register = template.Library()


@register.inclusion_tag("societies/includes/announcements_block.html")
def announcements_for(user: Any, limit: int = 5) -> dict[str, Any]:
    """The announcements of the doctor's specialties, pinned first, then newest (for anyone without specialties,
    the newest of all), and the way to the weekly digest."""
    announcements, reader = selectors.announcements_for(user=user, limit=limit)
    return {
        "announcements": announcements,
        "has_specialties": bool(reader.specialty_ids),
        "subscribed": reader.subscribed,
    }


@register.filter
def announcement_html(body: str) -> SafeString:
    """The Markdown rendered and sanitised (societies.text)."""
    return text.render_markdown(body)


@register.filter
def announcement_excerpt(body: str) -> str:
    """The first words of the text, as plain text (escaped by the template like any other)."""
    return text.excerpt(body)


@register.inclusion_tag("societies/includes/surveys_card.html")
def surveys_for(user: Any) -> dict[str, Any]:
    """The needs surveys open to the doctor and not answered yet (nothing for anyone else)."""
    return {"surveys": [survey for survey in selectors.surveys_open_to(user) if not survey.answered]}  # type: ignore[attr-defined]
