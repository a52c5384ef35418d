"""Project-wide tasks."""

from celery import shared_task


@shared_task(name="crm_site.ping")
def ping_task(value: str) -> dict[str, str]:
    """Echo a value back with the worker's host name: proves a worker really ran the task."""
    import socket

    return {"echo": value, "host": socket.gethostname()}
