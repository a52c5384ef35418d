"""Project-wide tasks."""

from celery import shared_task


@shared_task(name="crm_site.ping")
def ping_task(value: str) -> dict[str, object]:
    """Echo a value back with the process id that ran it: proves which process executed the task."""
    import os

    return {"echo": value, "pid": os.getpid()}
