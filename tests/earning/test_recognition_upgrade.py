"""Upgrading past earning/0006: a thank-you's one company value becomes its first tag and
the values the site started with get their English names."""

from __future__ import annotations

import pytest

from jifen.earning.models import CompanyValue, Recognition
from tests.factories import DepartmentFactory, EmployeeFactory
from tests.migrating import migrate_to_latest, migrated_back_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("earning", "0005_builtin_event_type_names")


executor = migrated_back_to(BEFORE)


def test_a_value_becomes_the_first_tag(executor):
    # people is not migrated back: its employees are made as they are now.
    department = DepartmentFactory(code="ops", name="运营部")
    giver = EmployeeFactory(department=department, name="李雷")
    recipient = EmployeeFactory(department=department, name="韩梅梅")
    apps = executor.loader.project_state([BEFORE]).apps
    Value = apps.get_model("earning", "CompanyValue")
    Recognition_ = apps.get_model("earning", "Recognition")
    teamwork = Value.objects.get_or_create(name="团队合作")[0]
    Recognition_.objects.create(giver_id=giver.pk, recipient_id=recipient.pk, points=5,
                                message="谢谢", value=teamwork, month="2026-11")
    Recognition_.objects.create(giver_id=giver.pk, recipient_id=recipient.pk, points=5,
                                message="多谢", month="2026-11")

    migrate_to_latest()

    tagged = Recognition.objects.get(message="谢谢")
    assert [v.name for v in tagged.values.all()] == ["团队合作"]
    assert not Recognition.objects.get(message="多谢").values.exists()
    assert CompanyValue.objects.get(name="团队合作").name_en == "Teamwork"
