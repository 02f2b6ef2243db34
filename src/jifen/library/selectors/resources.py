"""Reads of the resource library: what an employee may see and owns, search, my library,
the review queue and the operators' figures (downloads, points, conversion, contributors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from jifen.library.models import (
    Download,
    Purchase,
    Resource,
    ResourceCategory,
    ResourceStatus,
    ResourceView,
    ReviewState,
)
from jifen.library.search import query_terms
from jifen.people.models import Department, Employee
from jifen.people.selectors import audience_problem

SORTS = ("new", "popular", "price_asc", "price_desc")


def categories() -> list[ResourceCategory]:
    return list(ResourceCategory.objects.all())


def _audience(employee: Employee) -> Q:
    """Resources whose departments and grades admit the employee."""
    department = employee.department
    ancestors = [int(part) for part in (department.path or "").strip("/").split("/")
                 if part.isdigit()] if department is not None else []
    if department is not None and department.pk not in ancestors:
        ancestors.append(department.pk)
    no_departments = ~Exists(Resource.eligible_departments.through.objects.filter(
        resource_id=OuterRef("pk")))
    in_department = Exists(Resource.eligible_departments.through.objects.filter(
        resource_id=OuterRef("pk"), department_id__in=ancestors))
    grade = (employee.grade or "").strip()
    grades = Q(eligible_grades="")
    if grade:
        grades |= (Q(eligible_grades=grade) | Q(eligible_grades__startswith=f"{grade},")
                   | Q(eligible_grades__endswith=f",{grade}")
                   | Q(eligible_grades__contains=f",{grade},"))
    return (no_departments | in_department) & grades


def eligibility_problem(resource: Resource, employee: Employee) -> str:
    """Why the employee may not see the resource's content ("" when they may)."""
    return audience_problem(employee, list(resource.eligible_departments.all()),
                            resource.grade_list)


def owns(resource: Resource, employee: Employee | None) -> bool:
    if employee is None:
        return False
    return Purchase.objects.filter(resource=resource, employee=employee).exists()


def visible_to(employee: Employee) -> QuerySet[Resource]:
    """Published resources the employee may see, and any resource the employee owns
    (withdrawn ones stay in their library)."""
    owned = Purchase.objects.filter(resource_id=OuterRef("pk"), employee=employee)
    return Resource.objects.filter(
        (Q(status=ResourceStatus.PUBLISHED) & _audience(employee)) | Exists(owned))


def resource_for(employee: Employee, resource_id: int) -> Resource | None:
    """The resource when the employee may see it (published and eligible, or owned);
    None otherwise — unknown and hidden look the same."""
    return (visible_to(employee).select_related("category", "contributor")
            .prefetch_related("previews", "eligible_departments")
            .filter(pk=resource_id).first())


def may_download(resource: Resource, employee: Employee) -> bool:
    """Owned (whatever its status now), or free, published and eligible."""
    if owns(resource, employee):
        return True
    return (resource.price == 0 and resource.status == ResourceStatus.PUBLISHED
            and not eligibility_problem(resource, employee))


def search(employee: Employee, *, query: str = "", category_id: int | None = None,
           tag: str = "", price: str = "", sort: str = "new") -> QuerySet[Resource]:
    """The employee's library, narrowed: ``query`` words each found inside the title,
    description, tags or category (Chinese included, any database); ``price`` "free" or
    "paid"; ``tag`` one tag."""
    rows = (Resource.objects.filter(status=ResourceStatus.PUBLISHED).filter(_audience(employee))
            .select_related("category").prefetch_related("previews"))
    for term in query_terms(query):
        rows = rows.filter(search_text__contains=term)
    if category_id:
        rows = rows.filter(category_id=category_id)
    if tag.strip():
        rows = rows.filter(tags__contains=tag.strip()[:60])
    if price == "free":
        rows = rows.filter(price=0)
    elif price == "paid":
        rows = rows.filter(price__gt=0)
    owned = Purchase.objects.filter(resource_id=OuterRef("pk"), employee=employee)
    rows = rows.annotate(owned=Exists(owned))
    if sort == "popular":
        return rows.annotate(buyers=Count("purchases")).order_by("-buyers", "-id")
    if sort == "price_asc":
        return rows.order_by("price", "-id")
    if sort == "price_desc":
        return rows.order_by("-price", "-id")
    return rows.order_by("-published_at", "-id")


def my_library(employee: Employee) -> QuerySet[Purchase]:
    return (Purchase.objects.filter(employee=employee)
            .select_related("resource", "resource__category").order_by("-created_at", "-id"))


def my_contributions(employee: Employee) -> QuerySet[Resource]:
    return Resource.objects.filter(contributor=employee).order_by("-created_at", "-id")


def console_resources(*, query: str = "", status: str = "") -> QuerySet[Resource]:
    rows = Resource.objects.select_related("category", "contributor").annotate(
        buyers=Count("purchases", distinct=True)).order_by("-created_at", "-id")
    for term in query_terms(query):
        rows = rows.filter(search_text__contains=term)
    if status in ResourceStatus.values:
        rows = rows.filter(status=status)
    return rows


def category_by_id(category_id: int) -> ResourceCategory | None:
    return ResourceCategory.objects.filter(pk=category_id).first()


def resource_by_id(resource_id: int | None) -> Resource | None:
    """Any resource, whatever its status (for editors, and for checks that follow)."""
    if resource_id is None:
        return None
    return Resource.objects.filter(pk=resource_id).first()


def recently_reviewed(limit: int = 20) -> list[Resource]:
    return list(Resource.objects.filter(
        review_state__in=[ReviewState.APPROVED, ReviewState.REJECTED])
        .select_related("contributor").order_by("-reviewed_at", "-id")[:limit])


def review_queue() -> QuerySet[Resource]:
    return (Resource.objects.filter(review_state=ReviewState.PENDING)
            .select_related("category", "contributor", "contributor__department")
            .order_by("created_at", "id"))


def departments() -> list[Department]:
    return list(Department.objects.order_by("path"))


# --- the operators' view ---------------------------------------------------------------


@dataclass(frozen=True)
class ResourceFigures:
    resource_id: int
    title: str
    views: int
    downloads: int
    buyers: int
    points: int

    @property
    def conversion(self) -> float:
        """Share of views that led to a purchase (0 without views)."""
        return round(self.buyers / self.views, 4) if self.views else 0.0


def _since(days: int, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)


def resource_figures(*, days: int = 90, limit: int = 50,
                     now: datetime | None = None) -> list[ResourceFigures]:
    """Per resource over the last ``days``: views, downloads, buyers, points collected —
    most points first."""
    since = _since(days, now)
    views = dict(ResourceView.objects.filter(at__gte=since).values_list("resource")
                 .annotate(n=Count("id")).values_list("resource", "n"))
    downloads = dict(Download.objects.filter(at__gte=since).values_list("resource")
                     .annotate(n=Count("id")).values_list("resource", "n"))
    bought = {row["resource"]: row for row in Purchase.objects.filter(created_at__gte=since)
              .values("resource").annotate(n=Count("id"), points=Sum("points"))}
    ids = set(views) | set(downloads) | set(bought)
    titles = dict(Resource.objects.filter(pk__in=ids).values_list("pk", "title"))
    rows = [ResourceFigures(resource_id=pk, title=titles.get(pk, ""), views=views.get(pk, 0),
                            downloads=downloads.get(pk, 0),
                            buyers=bought.get(pk, {}).get("n", 0),
                            points=int(bought.get(pk, {}).get("points") or 0))
            for pk in ids]
    rows.sort(key=lambda r: (-r.points, -r.downloads, r.resource_id))
    return rows[:limit]


def daily_series(*, days: int = 30, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per day of the last ``days``: downloads and points collected (for the chart)."""
    since = _since(days, now)
    downloads = dict(Download.objects.filter(at__gte=since).annotate(day=TruncDate("at"))
                     .values("day").annotate(n=Count("id")).values_list("day", "n"))
    points = dict(Purchase.objects.filter(created_at__gte=since)
                  .annotate(day=TruncDate("created_at")).values("day")
                  .annotate(n=Sum("points")).values_list("day", "n"))
    today = timezone.localdate(now or timezone.now())
    out = []
    for offset in range(days - 1, -1, -1):
        day: date = today - timedelta(days=offset)
        out.append({"day": day.isoformat(), "downloads": downloads.get(day, 0),
                    "points": int(points.get(day) or 0)})
    return out


def top_contributors(*, limit: int = 10) -> list[dict[str, Any]]:
    """Employees with approved contributions: how many, and how many buyers they drew."""
    rows = (Resource.objects.filter(contributor__isnull=False,
                                    review_state=ReviewState.APPROVED)
            .values("contributor", "contributor__name", "contributor__employee_no")
            .annotate(resources=Count("id", distinct=True),
                      buyers=Count("purchases", distinct=True))
            .order_by("-resources", "-buyers", "contributor")[:limit])
    return [{"employee_no": r["contributor__employee_no"], "name": r["contributor__name"],
             "resources": r["resources"], "buyers": r["buyers"]} for r in rows]
