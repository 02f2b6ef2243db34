"""The employee import pages: the shared import pages of ``jifen.core.imports`` bound to
the employee importer and the MANAGE_PEOPLE capability."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jifen.core.imports import ImportPages
from jifen.core.roles import Cap
from jifen.people.imports import EmployeeImporter

pages = ImportPages(
    importer=EmployeeImporter,
    capability=Cap.MANAGE_PEOPLE,
    title=_("Import employees"),
    intro=_("Create and update employees and their accounts from a spreadsheet. Rows are "
            "matched by employee number, so importing the same sheet again updates the same "
            "people. Nothing is saved until you confirm the preview."),
    back_url_name="console:people",
    back_label=_("Employees"),
)
