from django import forms

from review.forms import SpecialtiesField

from .models import Module

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ModuleForm(forms.ModelForm[Module]):
    specialties = SpecialtiesField()

    class Meta:
        model = Module
        fields = [
            "title",
            "annotation",
            "link",
            "specialties",
            "hours",
            "credits_requested",
            "available_from",
            "available_until",
        ]
        widgets = {
            "annotation": forms.Textarea(attrs={"rows": 6}),
            "available_from": DATE_INPUT,
            "available_until": DATE_INPUT,
        }
