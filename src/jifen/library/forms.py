"""Forms of the library's resource pages. They only parse input; services decide (the file
is judged by ``jifen.library.documents`` in the service)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from jifen.library.models import (
    Resource,
    ResourceCategory,
    ResourceKind,
    ResourceStatus,
)
from jifen.people.models import Department

SORT_CHOICES = [
    ("new", _("Newest")),
    ("popular", _("Most popular")),
    ("price_asc", _("Points: low to high")),
    ("price_desc", _("Points: high to low")),
]
PRICE_CHOICES = [("", _("Any price")), ("free", _("Free")), ("paid", _("Paid"))]
ACCEPT = ".pdf,.docx,.xlsx,.pptx,.zip"

_control = {"class": "form-control"}
_select = {"class": "form-select"}


class LibraryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search the library"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={
                            "class": "form-control", "type": "search",
                            "placeholder": _("Search, e.g. performance review"),
                            "data-testid": "library-search"}))
    category = forms.ModelChoiceField(label=_("Category"), required=False,
                                      queryset=ResourceCategory.objects.all(),
                                      empty_label=_("All categories"),
                                      widget=forms.Select(attrs=_select))
    price = forms.ChoiceField(label=_("Price"), required=False, choices=PRICE_CHOICES,
                              widget=forms.Select(attrs=_select))
    tag = forms.CharField(label=_("Tag"), required=False, max_length=60,
                          widget=forms.HiddenInput())
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES,
                             widget=forms.Select(attrs=_select))


class ContributionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120,
                            widget=forms.TextInput(attrs=_control))
    description = forms.CharField(label=_("Description"), required=False, max_length=20000,
                                  widget=forms.Textarea(attrs={**_control, "rows": 4}))
    category = forms.ModelChoiceField(label=_("Category"), required=False,
                                      queryset=ResourceCategory.objects.all(),
                                      empty_label=_("Choose…"),
                                      widget=forms.Select(attrs=_select))
    tags = forms.CharField(label=_("Tags"), required=False, max_length=200,
                           help_text=_("Comma-separated."),
                           widget=forms.TextInput(attrs=_control))
    file = forms.FileField(label=_("File"), required=False,
                           help_text=_("PDF, Word, Excel, PowerPoint or ZIP."),
                           widget=forms.ClearableFileInput(attrs={**_control,
                                                                  "accept": ACCEPT}))
    external_url = forms.URLField(label=_("Or a course link"), required=False,
                                  max_length=500, assume_scheme="https",
                                  widget=forms.URLInput(attrs=_control))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("file") and not data.get("external_url"):
            raise forms.ValidationError(_("Upload a file or give a course link."))
        return data


class ResourceForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120,
                            widget=forms.TextInput(attrs=_control))
    description = forms.CharField(label=_("Description"), required=False, max_length=20000,
                                  widget=forms.Textarea(attrs={**_control, "rows": 5}))
    category = forms.ModelChoiceField(label=_("Category"), required=False,
                                      queryset=ResourceCategory.objects.all(),
                                      empty_label=_("None"), widget=forms.Select(attrs=_select))
    tags = forms.CharField(label=_("Tags"), required=False, max_length=200,
                           help_text=_("Comma-separated."),
                           widget=forms.TextInput(attrs=_control))
    price = forms.IntegerField(label=_("Points price"), min_value=0, max_value=10**9,
                               initial=0, help_text=_("0 means free."),
                               widget=forms.NumberInput(attrs=_control))
    kind = forms.ChoiceField(label=_("Kind"), choices=ResourceKind.choices,
                             initial=ResourceKind.FILE, widget=forms.Select(attrs=_select))
    file = forms.FileField(label=_("File"), required=False,
                           help_text=_("PDF, Word, Excel, PowerPoint or ZIP; checked by its "
                                       "content. Leave empty to keep the current file."),
                           widget=forms.ClearableFileInput(attrs={**_control,
                                                                  "accept": ACCEPT}))
    external_url = forms.URLField(label=_("Course link"), required=False, max_length=500,
                                  assume_scheme="https", widget=forms.URLInput(attrs=_control))
    status = forms.ChoiceField(label=_("Status"), choices=ResourceStatus.choices,
                               initial=ResourceStatus.DRAFT, widget=forms.Select(attrs=_select))
    departments = forms.ModelMultipleChoiceField(
        label=_("Only these departments"), required=False,
        queryset=Department.objects.order_by("path"),
        help_text=_("Empty means everyone; a department includes its sub-departments."),
        widget=forms.SelectMultiple(attrs={**_select, "size": 5}))
    grades = forms.CharField(label=_("Only these grades"), required=False, max_length=200,
                             help_text=_("Comma-separated; empty means every grade."),
                             widget=forms.TextInput(attrs=_control))

    def __init__(self, data: Any = None, files: Any = None, *,
                 resource: Resource | None = None, **kwargs: Any):
        if resource is not None and data is None:
            kwargs.setdefault("initial", {
                "title": resource.title, "description": resource.description,
                "category": resource.category_id, "tags": resource.tags,
                "price": resource.price, "kind": resource.kind,
                "external_url": resource.external_url,
                "departments": list(resource.eligible_departments.all()),
                "grades": resource.eligible_grades,
            })
        super().__init__(data, files, **kwargs)
        if resource is not None:
            # Status changes through Publish and Withdraw, which are audited as such.
            del self.fields["status"]
