"""Background order imports: store the upload, run it in a Celery task, and report progress.

Progress while rows are checked goes to the job row (autocommit: the page sees it at once). The write
phase runs inside one transaction, so a row update there would stay invisible until the end; instead the
task publishes its progress as Celery task state (``PROGRESS``, in the result backend: Redis, or files), which
the progress page reads by the task id derived from the job. In eager mode (tests, no broker) the
import finishes inside the upload request, so there is nothing to watch.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_site.db import on_commit
from crm_site.uploads import DEFAULT_ENCODING, UploadError
from orders.models import OrderImport
from orders.services.import_rows import RowError, check_file, row_source
from orders.services.imports import orders_import


def order_import_start(
    *,
    user: Any,
    uploaded_file: UploadedFile,
    dry_run: bool = True,
    create_customers: bool = False,
    encoding: str = DEFAULT_ENCODING,
) -> OrderImport:
    """Store the upload and run the import in the background (after this transaction commits).

    The header row is read first: an unreadable file or a bad header is a ValidationError on ``file``
    and the stored copy is deleted. A CSV file is read as ``encoding`` (``crm_site.uploads.ENCODINGS``).
    """
    from orders.tasks import order_import_run_task

    name = uploaded_file.name
    if name is None:  # not from the form: FileField.clean() rejects nameless uploads
        raise ValueError("The uploaded file has no name.")
    job = OrderImport(
        owner=user,
        original_name=name[:200],
        dry_run=dry_run,
        create_customers=create_customers,
        encoding=encoding or DEFAULT_ENCODING,
    )
    job.file.save(f"{uuid.uuid4().hex}-{name[-80:]}", uploaded_file, save=False)
    try:
        check_file(job.file.path, name, job.encoding)
        job.full_clean()
        job.save()
    except (UploadError, RowError) as error:
        job.file.delete(save=False)
        raise ValidationError({"file": str(error)}) from error
    except BaseException:
        job.file.delete(save=False)  # a refused upload leaves nothing on disk
        raise
    on_commit(lambda: order_import_run_task.apply_async(args=[str(job.pk)], task_id=job.task_id))
    return job


def order_import_run(
    *, import_id: Any, report: Callable[[dict[str, Any]], None] | None = None
) -> OrderImport:
    """Run (or re-run after a crash) one stored import; a finished import is left alone (idempotent).

    ``report`` receives ``{"phase", "done", "total"}`` during the write phase (the task publishes it).
    """
    job = OrderImport.objects.select_related("owner").get(pk=import_id)
    if job.status in OrderImport.FINISHED:
        return job

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "checking":
            OrderImport.objects.filter(pk=job.pk).update(
                status=OrderImport.Status.VALIDATING, processed_rows=done, total_rows=done
            )
        elif done == 0:  # called just before the write transaction opens: still visible
            OrderImport.objects.filter(pk=job.pk).update(
                status=OrderImport.Status.WRITING, processed_rows=0, total_rows=total
            )
        if phase == "writing" and report:
            report({"phase": phase, "done": done, "total": total})

    job.status = OrderImport.Status.VALIDATING
    job.save(update_fields=["status", "updated_at"])
    source = row_source(job.file.path, job.original_name, job.encoding)
    try:
        result = orders_import(
            rows=source,
            user=job.owner,
            dry_run=job.dry_run,
            create_customers=job.create_customers,
            progress=progress,
        )
    except DatabaseError:
        raise  # transient: the task retries; the transaction rolled back so a rerun starts clean
    except UploadError as error:
        return _failed(job, str(error))
    except Exception as error:  # noqa: BLE001 - an unreadable file: tell the user instead of retrying
        return _failed(job, _("The file could not be read: %(error)s") % {"error": error})
    job.refresh_from_db()
    job.total_rows = job.processed_rows = result.rows
    job.errors = result.errors
    job.error_count = result.error_count
    job.orders_created = result.orders if result.written else 0
    job.lines_created = result.lines if result.written else 0
    job.customers_created = result.customers_created
    if result.error_count:
        job.status = OrderImport.Status.FAILED
    else:
        job.status = OrderImport.Status.DONE if result.written else OrderImport.Status.VALID
    job.finished_at = timezone.now()
    job.save()
    return job


def _failed(job: OrderImport, message: str) -> OrderImport:
    """Mark an import whose file cannot be read as failed, and delete the file (nothing will use it)."""
    OrderImport.objects.filter(pk=job.pk).update(
        status=OrderImport.Status.FAILED,
        errors=[{"row": 0, "field": "file", "message": message}],
        error_count=1,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    job.file.delete(save=False)
    return job
