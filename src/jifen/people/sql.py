"""The people app's hand-written SQL (decision 0006): the employee-token look-up every API
call by an employee makes, and the field-by-field bulk update of an employee import."""

from __future__ import annotations

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction

from jifen.core.db import BULK_ROWS, instances_from_row, select_columns, statement
from jifen.people.models import AccessToken, Employee, User

# The models the token statement reads, in its column order: token, user, employee.
_TOKEN_MODELS: tuple[type[models.Model], ...] = (AccessToken, User, Employee)


def _token_statement(db: Any) -> str:
    def build() -> str:
        qn = db.ops.quote_name

        token_t, user_t, employee_t = (qn(m._meta.db_table) for m in _TOKEN_MODELS)
        fields = ", ".join(select_columns(AccessToken, "t") + select_columns(User, "u")
                           + select_columns(Employee, "e"))
        return (
            f"SELECT {fields} FROM {token_t} t "
            f"INNER JOIN {user_t} u ON u.{qn('id')} = t.{qn('user_id')} "
            f"LEFT OUTER JOIN {employee_t} e ON e.{qn('user_id')} = u.{qn('id')} "
            f"WHERE t.{qn('token_hash')} = %s AND t.{qn('revoked_at')} IS NULL "
            f"AND t.{qn('expires_at')} > %s AND u.{qn('is_active')} = %s "
            f"AND t.{qn('credentials_epoch')} = u.{qn('credentials_epoch')}"
        )

    return statement(("access-token",), build)


def live_token(token_hash: str, now: Any) -> AccessToken | None:
    """The live token with this hash, its user and employee loaded, in one statement (every
    API call by an employee asks): not revoked, not expired, the user active and the token
    of the user's current credentials epoch. None otherwise."""
    db = connections[DEFAULT_DB_ALIAS]
    expires = AccessToken._meta.get_field("expires_at").get_db_prep_value(now, db)
    with db.cursor() as cursor:
        cursor.execute(_token_statement(db), [token_hash, expires, True])
        row = cursor.fetchone()
    if row is None:
        return None
    (token, user, employee), _rest = instances_from_row(_TOKEN_MODELS, row)
    token.user = user
    if employee is None:  # no employee record: the LEFT JOIN's id is NULL
        User.employee.related.set_cached_value(user, None)
    else:
        user.employee = employee
    return token


def update_changed(model: type[Any], changes: list[tuple[Any, set[str]]]) -> None:
    """Save the changed fields of many rows: one UPDATE statement per set of changed fields,
    run with executemany in chunks. Django's bulk_update builds a CASE expression per row and
    field, which takes seconds for a few thousand rows; this takes milliseconds. No signals or
    auto_now, like bulk_update: the caller sets updated_at."""
    groups: dict[frozenset[str], list[Any]] = {}
    for obj, fields in changes:
        groups.setdefault(frozenset(fields), []).append(obj)
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    meta = model._meta
    for names, objs in groups.items():
        columns = [meta.get_field(name) for name in sorted(names)]
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in columns)
        sql = (f"UPDATE {quote(meta.db_table)} SET {assignments} "
               f"WHERE {quote(meta.pk.column)} = %s")
        params = [
            [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns] + [obj.pk]
            for obj in objs
        ]
        with connection.cursor() as cursor:
            for start in range(0, len(params), BULK_ROWS):
                cursor.executemany(sql, params[start:start + BULK_ROWS])
