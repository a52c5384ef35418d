"""Personal values masked in the admin for staff without ``customers.view_pii_customer`` (issue 13).

``PiiMaskedAdminMixin`` swaps each personal field of a change form, an inline or a change list for a
read-only display of its masked value when the user may not see it in full (superusers hold every
permission, so they see it all). Such a user cannot change these fields here either: a form field
would send the full value to the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin

from customers.masking import mask_contact
from customers.selectors.pii import can_see_pii

MASKED_SUFFIX = "_masked"
# {field name: (masking kind, None for the row's own ``kind``, or a function masking the value; label)}
PiiFields = dict[str, tuple[str | Callable[[Any], str] | None, Any]]


def _masked_display(field: str, kind: str | Callable[[Any], str] | None, label: Any) -> Any:
    @admin.display(description=label)
    def show(self: Any, obj: Any) -> str:
        value = getattr(obj, field, "")
        if callable(kind):
            return kind(value) or "—"
        return mask_contact(kind or str(getattr(obj, "kind", "")), value) or "—"

    return show


class _MaskedName:
    """The admin's ``original`` with a masked name: every attribute of the record, its str() masked."""

    def __init__(self, obj: Any, name: str) -> None:
        self._obj = obj
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._obj, attr)

    def __str__(self) -> str:
        return self._name


class PiiMaskedAdminMixin:
    """``pii_fields``: {field name: (masking kind, or None for the row's own ``kind``; column label)}."""

    pii_fields: PiiFields = {}
    # The search fields for a viewer without view_pii (None: the same as everyone's). A search on a masked
    # value would let them recover it by probing (``?q=1380``, ``?q=1381``...): only names and ids.
    masked_search_fields: tuple[str, ...] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for field, (kind, label) in cls.pii_fields.items():
            setattr(cls, field + MASKED_SUFFIX, _masked_display(field, kind, label))

    def _masks(self, request: Any) -> bool:
        return not can_see_pii(getattr(request, "user", None))

    def _swap(self, names: Any) -> list[Any]:
        return [f"{name}{MASKED_SUFFIX}" if name in self.pii_fields else name for name in names]

    def get_fields(self, request: Any, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)  # type: ignore[misc]
        # Without declared ``fields`` Django appends the read-only ones, masked names among them: once each.
        return list(dict.fromkeys(self._swap(fields))) if self._masks(request) else fields

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if self._masks(request):
            readonly += [name + MASKED_SUFFIX for name in self.pii_fields]
        return readonly

    def get_list_display(self, request: Any) -> Any:
        columns = super().get_list_display(request)  # type: ignore[misc]
        return self._swap(columns) if self._masks(request) else columns

    def get_search_fields(self, request: Any) -> Any:
        if self.masked_search_fields is not None and self._masks(request):
            return self.masked_search_fields
        return super().get_search_fields(request)  # type: ignore[misc]

    def get_actions(self, request: Any) -> Any:
        # A change list's row checkboxes are labelled with each row's name (a contact method's value).
        actions = super().get_actions(request)  # type: ignore[misc]
        return {} if self._masks(request) else actions

    def masked_name(self, obj: Any) -> str | None:
        """The record's name for a viewer without view_pii when its str() holds a personal value."""
        return None

    def history_view(self, request: Any, object_id: str, extra_context: dict[str, Any] | None = None) -> Any:
        # The history page's title and breadcrumb are the record's str() too.
        if self._masks(request):
            obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
            name = self.masked_name(obj) if obj is not None else None
            if obj is not None and name is not None:
                from django.utils.translation import gettext as _

                extra_context = {
                    **(extra_context or {}),
                    "title": _("Change history: %s") % name,
                    "object": _MaskedName(obj, name),
                }
        return super().history_view(request, object_id, extra_context)  # type: ignore[misc]

    def render_change_form(
        self,
        request: Any,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> Any:
        # The page's subtitle and breadcrumb are the record's str(): a contact method's is its value.
        if obj is not None and self._masks(request):
            name = self.masked_name(obj)
            if name is not None:
                context["subtitle"] = name
                context["original"] = _MaskedName(obj, name)
        return super().render_change_form(  # type: ignore[misc]
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )


def mask_snapshot(snapshot: Any) -> Any:
    """A merge snapshot (``customers.services.merge``) with the values the site masks masked."""
    if not isinstance(snapshot, dict):
        return snapshot
    masked = dict(snapshot)
    for field in ("birth_date", "id_number"):
        if masked.get(field):
            masked[field] = mask_contact(field, masked[field])
    masked["contact_methods"] = [
        {**row, "value": mask_contact(str(row.get("kind", "")), row.get("value"))}
        if isinstance(row, dict)
        else row
        for row in masked.get("contact_methods") or []
    ]
    masked["addresses"] = [
        {**row, **{key: mask_contact(key, row[key]) for key in ("street", "postal_code") if row.get(key)}}
        if isinstance(row, dict)
        else row
        for row in masked.get("addresses") or []
    ]
    return masked
