"""factory-boy factories: one line builds a valid object."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group

from jifen.core.roles import Role
from jifen.people.models import Department, Employee, User

PASSWORD = "Jifen-Test-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            for role in extracted:
                self.groups.add(Group.objects.get_or_create(name=role)[0])
        if create:
            self.save()


class DepartmentFactory(factory.django.DjangoModelFactory):
    """Built through the service so the tree path is right."""

    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = factory.Sequence(lambda n: f"部门{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from jifen.people.services import upsert_department

        parent = kwargs.pop("parent", None)
        manager = kwargs.pop("manager", None)
        dept, _ = upsert_department(
            code=kwargs["code"], name=kwargs["name"],
            parent_code=parent.code if parent else None,
            manager_employee_no=manager.employee_no if manager else None,
        )
        return dept


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee
        skip_postgeneration_save = True

    employee_no = factory.Sequence(lambda n: f"E{n:05d}")
    name = factory.Sequence(lambda n: f"员工{n}")
    department = factory.SubFactory(DepartmentFactory)
    email = factory.LazyAttribute(lambda o: f"{o.employee_no.lower()}@example.com")
    user = factory.SubFactory(
        UserFactory, username=factory.SelfAttribute("..employee_no"),
        roles=[Role.EMPLOYEE],
    )

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            for role in extracted:
                self.user.groups.add(Group.objects.get_or_create(name=role)[0])
