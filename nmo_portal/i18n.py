from django.utils.translation import get_language


def localized(name: str, name_en: str) -> str:
    """Reference data keeps a Russian name and an optional English one; show the one the page speaks."""
    return name_en if (get_language() or "ru").startswith("en") and name_en else name
