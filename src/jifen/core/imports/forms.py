"""The forms of the import pages: the upload and the column mapping."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jifen.core.imports.importer import Importer
from jifen.core.imports.readers import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES, column_labels
from jifen.core.models import ImportJob


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet"),
        help_text=gettext_lazy("An .xlsx or .csv file of at most 20 MB."),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".xlsx,.csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        if PurePath(upload.name).suffix.lower() not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(_("Upload an .xlsx or .csv file."))
        return upload


class MappingForm(forms.Form):
    """One select per importer field: which column of the file holds it."""

    def __init__(self, *args: Any, importer: Importer, job: ImportJob, **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [("", _("— not imported —"))] + [
            (str(i), label) for i, label in enumerate(column_labels(job.headers))
        ]
        for f in importer.fields:
            current = job.mapping.get(f.name)
            self.fields[f.name] = forms.TypedChoiceField(
                label=f.label, choices=choices, required=False, coerce=int, empty_value=None,
                initial="" if current is None else str(current), help_text=f.help_text,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
