from django_tasks import task

from jifen.insights.selectors import dashboards, leaderboard
from jifen.insights.services import payroll_exports, recommend, rollups


@task()
def fold_rollups_task() -> int:
    """Every minute (``jifen.core.periodic``): fold what points did into the rollups, then
    refresh what people have been looking at (the default dashboard, the company's
    leaderboards), so the next of them reads it instead of computing it. Every minute,
    folded or not: what is kept lasts a minute (decisions 0025, 0034)."""
    folded = rollups.fold_pending()
    leaderboard.refresh_after_fold()
    dashboards.refresh_after_fold()
    return folded


@task()
def payroll_export_task(job_id: int) -> None:
    """A payroll month's xlsx, asked for on the period page."""
    payroll_exports.run_export(job_id=job_id)


@task()
def build_recommendations_task() -> int:
    """Every night (``jifen.core.periodic``): the recommendations' neighbours and group
    tastes from the day's redemptions, favourites and views; how many neighbours."""
    return recommend.build().neighbours
