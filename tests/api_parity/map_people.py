"""Console actions of the people app → their API twins (see test_console_parity.py).

The employee spreadsheet import (/console/people/import/, outside the console namespace
the parity test walks) is the same import job through /imports (kind people.employees)."""

TWINS: dict[str, list[str]] = {
    "department_create": ["PUT /departments/{code}"],
    "department_edit": ["PUT /departments/{code}"],
    "employee_create": ["PUT /employees/{employee_no}"],
    "employee_edit": ["PUT /employees/{employee_no}"],
    "employee_left": ["POST /employees/{employee_no}/left"],
    "employee_roles": ["PUT /employees/{employee_no}/roles"],
    "second_factor_reset": ["POST /employees/{employee_no}/second-factor/reset"],
    "sign_in_settings": ["PUT /sign-in/policy"],
    "sso_provider_create": ["POST /sso/providers"],
    "sso_provider_edit": ["PUT /sso/providers/{provider_pk}"],
    "sso_provider_delete": ["DELETE /sso/providers/{provider_pk}"],
    "logout": ["DELETE /auth/token"],
}

NO_API: dict[str, str] = {}
