"""Import pages of the order desk (the mechanism is ``jifen.core.imports``)."""

from django.utils.translation import gettext_lazy as _

from jifen.core.imports import ImportPages
from jifen.core.roles import Cap
from jifen.mall.imports import CodeImporter, TrackingImporter

tracking_pages = ImportPages(
    importer=TrackingImporter, capability=Cap.MANAGE_MALL,
    title=_("Ship orders from a tracking-number sheet"),
    intro=_("One row per order: the order number, the carrier and the tracking number. "
            "Each approved order in the sheet is marked shipped and its owner is told."),
    back_url_name="console:mall", back_label=_("Order desk"),
)

code_pages = ImportPages(
    importer=CodeImporter, capability=Cap.MANAGE_MALL,
    title=_("Import redemption codes"),
    intro=_("One row per code: the item number (or exact name) and the code. Codes an item "
            "already has are skipped; each new code adds one to the item's stock."),
    back_url_name="console:mall_codes", back_label=_("Code pools"),
)
