"""A number beside a word agrees with it in both languages («1 кредит», «2 кредита», «5 кредитов»): every such
text is a plural message. Checked over the message catalogue, which `makemessages` builds from the Python code
and the templates alike, and over the templates for a number set before a separately translated word."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po"
# The nouns the portal counts; a number placeholder right before one of them needs ngettext/blocktranslate count.
COUNTED = (
    r"(credits?|hours?|days?|codes?|rows?|columns?|attendees?|years?|minutes?|seconds?|characters?|records?"
    r"|doctors?|events?|modules?|activities|files?|times?|attempts?|completions?|entries|disputes?|certificates?"
    r"|weeks?|months?)\b"
)
NUMBER_BESIDE_WORD = re.compile(r"(%\(\w+\)[ds]|%[ds])\s+" + COUNTED, re.IGNORECASE)
TEMPLATE_NUMBER_BESIDE_WORD = re.compile(r"\}\}\s*\{%\s*translate\s+[\"']" + COUNTED, re.IGNORECASE)


def _entries() -> list[dict[str, str | list[str]]]:
    """The catalogue's entries: msgid, msgid_plural and the msgstr forms (a small reader for our own file)."""
    entries = []
    for block in CATALOGUE.read_text(encoding="utf-8").split("\n\n"):
        entry: dict[str, str | list[str]] = {"refs": " ".join(re.findall(r"^#: (.*)$", block, re.M))}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                entry[key] = match.group(2)
            elif line.startswith('"') and key:
                entry[key] = str(entry[key]) + line[1:-1]
        if entry.get("msgid"):
            entries.append(entry)
    return entries


def test_no_message_sets_a_number_beside_a_counted_word_without_plural_forms():
    offenders = [
        f"{entry['refs']}: {entry['msgid']}"
        for entry in _entries()
        if "msgid_plural" not in entry and NUMBER_BESIDE_WORD.search(str(entry["msgid"]))
    ]
    assert offenders == [], "use ngettext / {% blocktranslate count %}:\n" + "\n".join(offenders)


def test_no_template_sets_a_number_before_a_separately_translated_counted_word():
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sorted((ROOT / "templates").rglob("*.*"))
        for match in TEMPLATE_NUMBER_BESIDE_WORD.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "use {% blocktranslate count %}:\n" + "\n".join(offenders)


def test_every_plural_message_has_the_three_russian_forms():
    plurals = [entry for entry in _entries() if "msgid_plural" in entry]
    assert plurals
    incomplete = [entry["msgid"] for entry in plurals if not all(entry.get(f"msgstr[{form}]") for form in range(3))]
    assert incomplete == []


@pytest.mark.parametrize(
    ("count", "russian"),
    [(1, "1 кредит"), (2, "2 кредита"), (5, "5 кредитов"), (11, "11 кредитов"), (21, "21 кредит")],
)
def test_the_planned_list_counts_credits_in_russian(count, russian):
    from django.template import Context, Template

    template = Template(
        "{% load i18n %}{% blocktranslate count credits=n %}{{ credits }} credit{% plural %}"
        "{{ credits }} credits{% endblocktranslate %}"
    )
    with translation.override("ru"):
        assert template.render(Context({"n": count})) == russian
    with translation.override("en"):
        assert template.render(Context({"n": count})) == f"{count} credit" + ("" if count == 1 else "s")
