"""Project-wide tasks."""

from celery import shared_task


@shared_task(name="crm_site.ping")
def ping_task(value: str) -> dict[str, object]:
    """Echo a value back with the process id that ran it: proves which process executed the task."""
    import os

    return {"echo": value, "pid": os.getpid()}


@shared_task(name="crm_site.retention_purge")
def retention_purge_task() -> dict[str, object]:
    """The nightly retention purge (crm_site.retention); returns the run's id and counts."""
    from crm_site.retention import retention_run

    run = retention_run()
    return {"run": str(run.pk), "counts": run.counts}
