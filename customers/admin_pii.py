"""Personal values masked in the admin for staff without ``customers.view_pii_customer`` (issue 13).

``PiiMaskedAdminMixin`` swaps each personal field of a change form, an inline or a change list for a
read-only display of its masked value when the user may not see it in full (superusers hold every
permission, so they see it all). Such a user cannot change these fields here either: a form field
would send the full value to the browser.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from customers.masking import mask_contact
from customers.selectors.pii import can_see_pii

MASKED_SUFFIX = "_masked"
# {field name: (masking kind, or None for the row's own ``kind``; column label)}
PiiFields = dict[str, tuple[str | None, Any]]


def _masked_display(field: str, kind: str | None, label: Any) -> Any:
    @admin.display(description=label)
    def show(self: Any, obj: Any) -> str:
        value = getattr(obj, field, "")
        return mask_contact(kind or str(getattr(obj, "kind", "")), value) or "—"

    return show


class PiiMaskedAdminMixin:
    """``pii_fields``: {field name: (masking kind, or None for the row's own ``kind``; column label)}."""

    pii_fields: PiiFields = {}

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
        return self._swap(fields) if self._masks(request) else fields

    def get_readonly_fields(self, request: Any, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if self._masks(request):
            readonly += [name + MASKED_SUFFIX for name in self.pii_fields]
        return readonly

    def get_list_display(self, request: Any) -> Any:
        columns = super().get_list_display(request)  # type: ignore[misc]
        return self._swap(columns) if self._masks(request) else columns

    def get_actions(self, request: Any) -> Any:
        # A change list's row checkboxes are labelled with each row's name (a contact method's value).
        actions = super().get_actions(request)  # type: ignore[misc]
        return {} if self._masks(request) else actions
