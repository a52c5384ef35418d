"""Customer import jobs as their uploader (or a manager) may see them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from customers.models import CustomerImport


def customer_import_list(*, user: Any) -> QuerySet[CustomerImport]:
    """The imports ``user`` may see, newest first, uploader joined."""
    return CustomerImport.objects.visible_to(user).select_related("created_by")


def customer_import_get(*, user: Any, pk: Any) -> CustomerImport:
    """One import ``user`` may see; Http404 otherwise (no hint that it exists)."""
    try:
        return customer_import_list(user=user).get(pk=pk)
    except (CustomerImport.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such import.") from exc
