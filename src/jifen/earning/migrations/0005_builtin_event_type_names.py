"""Built-in event types get names in both languages and titled payload fields.

Until now a built-in type was stored with its Chinese name as ``name`` and its English
name as ``description``, so the English UI showed Chinese names and the Chinese UI showed
English descriptions. They now store English message ids that are translated when shown
(``EventType.display_name``), and their schemas carry field titles and value labels.

Only what an admin has not changed is rewritten: a name still equal to the Chinese name
shipped, a description still equal to the English name shipped, a schema that validates
exactly what the shipped one did (titles aside)."""

from django.db import migrations

# code → (name, description) as 0002 stored them.
SHIPPED = {
    "attendance_full_month": ("全勤", "Full attendance for a month"),
    "attendance_late": ("迟到", "Late arrival"),
    "attendance_absent": ("缺勤", "Absence"),
    "performance_rating": ("绩效评级", "Performance rating"),
    "task_delivered": ("任务/项目交付", "Task or project delivered"),
    "sales_target_reached": ("销售目标达成", "Sales target reached"),
    "training_completed": ("完成培训", "Training completed"),
    "certificate_obtained": ("获得证书", "Certificate obtained"),
    "idea_adopted": ("建议被采纳", "Idea adopted"),
    "helped_colleague": ("帮助同事/跨部门协作", "Helped a colleague or another department"),
    "volunteering": ("志愿服务", "Volunteering"),
    "social_post_approved": ("正面宣传（已审核）", "Approved social media post"),
    "daily_checkin": ("每日签到", "Daily check-in"),
    "comment": ("评论", "Comment"),
    "share": ("分享", "Share"),
    "download": ("下载", "Download"),
}


def forwards(apps, schema_editor):
    from jifen.earning.builtins import BUILTIN_EVENT_TYPES, untitled

    EventType = apps.get_model("earning", "EventType")
    for row in EventType.objects.filter(builtin=True, code__in=list(BUILTIN_EVENT_TYPES)):
        seed = BUILTIN_EVENT_TYPES[row.code]
        old_name, old_description = SHIPPED.get(row.code, (None, None))
        changed = []
        if row.name == old_name:
            row.name = seed.name
            changed.append("name")
        if row.description == old_description:
            row.description = seed.description
            changed.append("description")
        if row.schema != seed.schema and untitled(row.schema) == untitled(seed.schema):
            row.schema = seed.schema
            changed.append("schema")
        if changed:
            row.save(update_fields=changed)


def backwards(apps, schema_editor):
    from jifen.earning.builtins import BUILTIN_EVENT_TYPES, untitled

    EventType = apps.get_model("earning", "EventType")
    for row in EventType.objects.filter(builtin=True, code__in=list(SHIPPED)):
        seed = BUILTIN_EVENT_TYPES.get(row.code)
        old_name, old_description = SHIPPED[row.code]
        changed = []
        if seed and row.name == seed.name:
            row.name = old_name
            changed.append("name")
        if seed and row.description == seed.description:
            row.description = old_description
            changed.append("description")
        if seed and row.schema == seed.schema:
            row.schema = untitled(seed.schema)
            changed.append("schema")
        if changed:
            row.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [("earning", "0004_event_keys_exact_on_mysql")]
    operations = [migrations.RunPython(forwards, backwards)]
