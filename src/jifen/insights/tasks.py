from django_tasks import task

from jifen.insights.services import payroll_exports, rollups


@task()
def fold_rollups_task() -> int:
    """Every minute (``jifen.core.periodic``): fold what points did into the rollups."""
    return rollups.fold_pending()


@task()
def payroll_export_task(job_id: int) -> None:
    """A payroll month's xlsx, asked for on the period page."""
    payroll_exports.run_export(job_id=job_id)
