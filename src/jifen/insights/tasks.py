from django_tasks import task

from jifen.insights.services import rollups


@task()
def fold_rollups_task() -> int:
    """Every minute (``jifen.core.periodic``): fold what points did into the rollups."""
    return rollups.fold_pending()
