"""People writers: departments, employees, accounts, roles and employee API tokens.

The package: ``departments``, ``employees`` (one at a time), ``bulk_import`` (many at once,
for the spreadsheet import), ``accounts`` (signing in, passwords, tokens, ending sign-ins),
``roles`` (roles, and who may off-board or rename an administrator) and ``batches``
(chunked look-ups the bulk paths share). The public names are re-exported here.
"""

from jifen.people.services.accounts import (
    TOKEN_PREFIX,
    authenticate_access_token,
    change_password,
    end_every_sign_in,
    end_sign_ins,
    issue_access_token,
    revoke_access_token,
    sign_in,
)
from jifen.people.services.bulk_import import (
    ImportResult,
    check_employee_rows,
    check_offboarding_rows,
    check_renaming_rows,
    import_employees,
)
from jifen.people.services.departments import DEPARTMENT_FIELDS, upsert_department
from jifen.people.services.employees import (
    EMPLOYEE_FIELDS,
    EmployeeData,
    mark_employee_left,
    upsert_employee,
    validate_employee_data,
)
from jifen.people.services.roles import offboarding_refusals, renaming_refusals, set_roles

__all__ = [
    "DEPARTMENT_FIELDS", "EMPLOYEE_FIELDS", "TOKEN_PREFIX", "EmployeeData", "ImportResult",
    "authenticate_access_token", "change_password", "check_employee_rows",
    "check_offboarding_rows", "check_renaming_rows", "end_every_sign_in", "end_sign_ins",
    "import_employees", "issue_access_token", "mark_employee_left", "offboarding_refusals",
    "renaming_refusals", "revoke_access_token", "set_roles", "sign_in", "upsert_department",
    "upsert_employee", "validate_employee_data",
]
