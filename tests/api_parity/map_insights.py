"""Console actions of the insights app and their API twins (issue #16 part 4)."""

TWINS: dict[str, list[str]] = {
    "insights_settings": ["PATCH /insights/settings"],
    "payroll_close": ["POST /payroll/periods/{month}/close"],
    "payroll_reopen": ["POST /payroll/periods/{month}/reopen"],
    # The settings page has three forms (field `form`): bonus policies have their twin;
    # the export's column mapping and the benefit setting do not yet (see NO_API note in
    # the api-ops report: to be added as PUT /payroll/settings).
    "payroll_settings": ["PUT /payroll/policies/{category}"],
    # The worker's whole-month xlsx; the API reads the same period's lines.
    "payroll_export": ["GET /payroll/periods/{month}"],
}

# See map_core.GAPS.
GAPS: dict[str, str] = {
    "payroll_settings?form=columns": "the payroll export's column mapping and the benefit "
                                     "setting have no API yet (PUT /payroll/settings)",
}

NO_API: dict[str, str] = {}
