"""Manager-defined typed fields; values live in ``Customer.attributes`` under the field's key."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_site.models import BaseModel


class CustomFieldDefinition(BaseModel):
    """A custom customer field: shown in forms, detail pages, filters and exports."""

    class FieldType(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        BOOLEAN = "boolean", _("Yes / no")

    key = models.CharField(
        _("key"),
        max_length=50,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]*$", _("Lowercase letters, digits and _, starting with a letter.")
            )
        ],
    )
    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(_("type"), max_length=10, choices=FieldType.choices, default=FieldType.TEXT)
    choices = models.TextField(_("choices"), blank=True, help_text=_("For choice fields: one per line."))
    required = models.BooleanField(_("required"), default=False)
    filterable = models.BooleanField(_("filterable"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    help_text = models.CharField(_("help text"), max_length=255, blank=True)

    class Meta:
        ordering = ["position", "label"]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if self.field_type == self.FieldType.CHOICE and not self.choice_list():
            raise ValidationError({"choices": _("A choice field needs at least one choice.")})

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def to_json(self, raw: Any) -> Any:
        """The JSON value for ``raw`` (form/CSV input), or ValidationError naming why it is invalid."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if self.required:
                raise ValidationError(_("%(label)s is required.") % {"label": self.label})
            return None
        if self.field_type == self.FieldType.NUMBER:
            try:
                number = Decimal(str(raw).strip())
            except InvalidOperation:
                raise ValidationError(_("%(value)s is not a number.") % {"value": raw}) from None
            if not number.is_finite():
                raise ValidationError(_("%(value)s is not a number.") % {"value": raw})
            return int(number) if number == number.to_integral_value() else float(number)
        if self.field_type == self.FieldType.DATE:
            if isinstance(raw, datetime.datetime):
                return raw.date().isoformat()
            if isinstance(raw, datetime.date):
                return raw.isoformat()
            try:
                return datetime.date.fromisoformat(str(raw).strip()).isoformat()
            except ValueError:
                raise ValidationError(
                    _("%(value)s is not a date (use YYYY-MM-DD).") % {"value": raw}
                ) from None
        if self.field_type == self.FieldType.BOOLEAN:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "y", "是", "on"}:
                return True
            if text in {"0", "false", "no", "n", "否", "off"}:
                return False
            raise ValidationError(_("%(value)s is not yes or no.") % {"value": raw})
        if self.field_type == self.FieldType.CHOICE:
            text = str(raw).strip()
            if text not in self.choice_list():
                raise ValidationError(
                    _("%(value)s is not one of: %(choices)s.")
                    % {"value": text, "choices": ", ".join(self.choice_list())}
                )
            return text
        return str(raw).strip()[:1000]
