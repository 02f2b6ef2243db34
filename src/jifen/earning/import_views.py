"""The event import pages: the shared import pages bound to the event importer."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from jifen.core.imports import ImportPages
from jifen.core.roles import Cap
from jifen.earning.imports import EventImporter

pages = ImportPages(
    importer=EventImporter,
    capability=Cap.MANAGE_RULES,
    title=_("Import events"),
    intro=_("Score events from a spreadsheet (attendance, ratings, training …), one event per "
            "row. Rows without an id get one from their content, so importing the same sheet "
            "again credits nothing twice. Large sheets are scored in the background."),
    back_url_name="console:event_log",
    back_label=_("Event log"),
)
