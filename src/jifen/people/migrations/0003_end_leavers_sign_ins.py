"""Upgrading must not revive the sign-ins of people who left before it.

Before 0002 leaving through the API (``PUT /employees/{no}`` with status "left") disabled
the account but left its tokens' ``revoked_at`` empty, and 0002 gave every account and
token the credentials epoch 0. Making such a person active again after the upgrade would
therefore bring their old tokens back. This step does for them what
``people.services.end_sign_ins`` does at leaving now: every account that is inactive or
whose employee has left moves its credentials epoch on (ending its web sessions and every
token issued before) and its unrevoked tokens are revoked. It changes no one's
``is_active``. Bulk UPDATEs; the reverse is a no-op (nothing revived)."""

from django.db import migrations
from django.db.models import F
from django.utils import timezone


def end_leavers_sign_ins(apps, schema_editor):
    db = schema_editor.connection.alias
    User = apps.get_model("people", "User")
    Employee = apps.get_model("people", "Employee")
    AccessToken = apps.get_model("people", "AccessToken")
    # Materialised first: MySQL cannot UPDATE a table its own subquery reads.
    left = set(Employee.objects.using(db).filter(status="left", user__isnull=False)
               .values_list("user_id", flat=True))
    inactive = set(User.objects.using(db).filter(is_active=False)
                   .values_list("pk", flat=True))
    user_ids = sorted(left | inactive)
    now = timezone.now()
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start:start + 500]
        User.objects.using(db).filter(pk__in=chunk).update(
            credentials_epoch=F("credentials_epoch") + 1)
        AccessToken.objects.using(db).filter(
            user_id__in=chunk, revoked_at__isnull=True).update(revoked_at=now)


class Migration(migrations.Migration):

    dependencies = [
        ("people", "0002_sign_in_policy"),
    ]

    operations = [
        migrations.RunPython(end_leavers_sign_ins, migrations.RunPython.noop, elidable=True),
    ]
