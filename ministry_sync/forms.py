from django import forms
from django.utils.translation import gettext_lazy as _


class LinkForm(forms.Form):
    login = forms.CharField(label=_("Login at the Ministry portal (edu.rosminzdrav.ru)"), max_length=150)
