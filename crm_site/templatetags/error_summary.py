"""``{% error_summary form formset ... %}``: every error of a failed submit, listed above the form.

Each entry names its field (and row, for formset rows) and links to the input, so a keyboard or screen
reader user can reach it (WCAG 3.3.1). static/js/error-summary.js moves the focus to the summary; without
JavaScript the summary is there all the same.
"""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext as _

register = template.Library()


def _form_errors(form: forms.BaseForm, row: int | None) -> list[dict[str, str]]:
    entries: list[dict[str, str]] = []
    row_label = _("Row %(row)s") % {"row": row} if row else ""
    for message in form.non_field_errors():
        entries.append({"label": row_label, "message": str(message), "anchor": ""})
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS or name not in form.fields:
            continue
        bound = form[name]
        label = str(bound.label or name)
        if row:
            label = _("%(field)s, row %(row)s") % {"field": label, "row": row}
        for message in errors:
            entries.append(
                {"label": label, "message": str(message), "anchor": bound.id_for_label or str(bound.auto_id)}
            )
    return entries


@register.inclusion_tag("includes/_error_summary.html")
def error_summary(*forms_and_formsets: Any) -> dict[str, Any]:
    entries: list[dict[str, str]] = []
    for item in forms_and_formsets:
        if item is None or not getattr(item, "is_bound", False):
            continue
        if isinstance(item, forms.BaseFormSet):
            entries.extend(
                {"label": "", "message": str(message), "anchor": ""} for message in item.non_form_errors()
            )
            for index, form in enumerate(item.forms, start=1):
                entries.extend(_form_errors(form, index))
        else:
            entries.extend(_form_errors(item, None))
    return {"entries": entries}
