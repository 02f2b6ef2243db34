"""Console actions of the insights app and their API twins (issue #16 part 4)."""

TWINS: dict[str, list[str]] = {
    "insights_settings": ["PATCH /insights/settings"],
    "payroll_close": ["POST /payroll/periods/{month}/close"],
    "payroll_reopen": ["POST /payroll/periods/{month}/reopen"],
    # The settings page has three forms: bonus policies, the columns, the benefit setting.
    "payroll_settings": ["PUT /payroll/policies/{category}", "PUT /payroll/settings"],
    # The worker's whole-month xlsx; the API reads the same period's lines.
    "payroll_export": ["GET /payroll/periods/{month}"],
    # Portal pages the console walk does not read, mapped for the record (issue #18): the
    # on/off page, and the rows of the mall home, an item's page and the library.
    "portal:recommendations": ["GET /me/recommendation-settings",
                               "PUT /me/recommendation-settings"],
    "portal:mall?row=recommended": ["GET /me/recommendations"],
    "portal:library?row=recommended": ["GET /me/recommendations"],
    "portal:mall_item?row=also": ["GET /items/{item_id}/related"],
}

NO_API: dict[str, str] = {}
