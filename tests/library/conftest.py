"""Fixtures of the resource library's tests (engage's are in engage_fixtures.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile

from jifen.core.roles import Role
from jifen.library import samples
from jifen.library.models import Resource, ResourcePreview, ResourceStatus
from jifen.library.services import resources as services
from tests.factories import EmployeeFactory
from tests.ledger.helpers import fund, spendable  # noqa: F401 (tests import them from here)


def pdf_upload(name: str = "绩效面谈模板.pdf", pages: int = 2) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, samples.make_pdf(
        [[f"Performance review page {n + 1}", "Line"] for n in range(pages)]),
        content_type="application/pdf")


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def library_root(tmp_path, monkeypatch) -> Path:
    """Resource files and preview pages go to a throw-away private folder."""
    root = tmp_path / "library-private"
    root.mkdir()
    storage = FileSystemStorage(location=root)
    for model, name in ((Resource, "file"), (Resource, "cover"), (ResourcePreview, "image")):
        monkeypatch.setattr(model._meta.get_field(name), "storage", storage)
    return root


@pytest.fixture
def editor(make_role_employee):
    return make_role_employee(Role.HR_ADMIN, name="资料编辑")


@pytest.fixture
def make_resource(db, editor, library_root):
    def make(**fields: Any) -> Resource:
        fields.setdefault("title", "绩效面谈模板")
        fields.setdefault("description", "经理与员工进行季度绩效面谈时使用的模板")
        fields.setdefault("price", 20)
        fields.setdefault("status", ResourceStatus.PUBLISHED)
        if fields.get("kind", "file") == "file":
            fields.setdefault("upload", pdf_upload())
        return services.create_resource(actor=editor.user, **fields)

    return make


@pytest.fixture
def buyer(employee):
    fund(employee, 100)
    return employee


@pytest.fixture
def other_employee(department):
    person = EmployeeFactory(department=department, name="李娜")
    fund(person, 100)
    return person
