"""An Atom feed of each specialty's announcements, with Django's syndication framework."""

from datetime import datetime

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from accounts.models import Specialty

from .models import Announcement
from .selectors import public_announcements
from .text import render_markdown

FEED_ITEMS = 50


class SpecialtyAnnouncementsFeed(Feed[Announcement, Specialty]):
    """The newest published announcements of one specialty; each entry's summary is the sanitised HTML of its
    text (a feed reader shows it as HTML, so it is made safe as the page's is)."""

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, code: str) -> Specialty:
        specialty = Specialty.objects.filter(code=code).first() if len(code) <= 16 else None
        if specialty is None:
            raise Http404
        return specialty

    def title(self, obj: Specialty) -> str:
        return _("Announcements of professional societies: %(specialty)s") % {"specialty": obj}

    def subtitle(self, obj: Specialty) -> str:
        return _("News, requirements and activities for doctors of %(specialty)s.") % {"specialty": obj}

    def link(self, obj: Specialty) -> str:
        return f"{reverse('societies:announcements')}?{urlencode({'specialty': obj.code})}"

    def items(self, obj: Specialty) -> list[Announcement]:
        return list(public_announcements(specialty=obj).order_by("-published_at", "-pk")[:FEED_ITEMS])

    def item_title(self, item: Announcement) -> str:
        return item.title

    def item_description(self, item: Announcement) -> SafeString:
        return render_markdown(item.body)

    def item_link(self, item: Announcement) -> str:
        return reverse("societies:announcement", args=[item.pk])

    def item_pubdate(self, item: Announcement) -> datetime:
        return item.published_at

    def item_updateddate(self, item: Announcement) -> datetime:
        return item.updated_at

    def item_author_name(self, item: Announcement) -> str:
        return str(item.society)

    def item_categories(self, item: Announcement) -> list[str]:
        return [specialty.code for specialty in item.specialties.all()]
