"""Forms of the profiles pages: the segment rule builder, member filters and the event CSV upload."""

from __future__ import annotations

from datetime import date
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site.listing import ListFilterForm
from crm_site.uploads import encoding_field
from profiles.models import CustomerProfile
from profiles.rules import FIELDS, OPERATORS, field_choices, rule_from_entry, validate_rule, value_text

RULE_ROWS = 5
FIELD_CHOICES = [("", "—")] + [(name, label) for name, (_path, _kind, label) in FIELDS.items()]
OP_CHOICES = [("", "—")] + list(OPERATORS.items())


class SegmentForm(forms.Form):
    """A name plus up to five conditions (field, operator, value), all of which must hold."""

    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, initial_rule: list[dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rows = []
        for number in range(1, RULE_ROWS + 1):
            self.fields[f"field_{number}"] = forms.ChoiceField(
                label=_("Field"), choices=FIELD_CHOICES, required=False
            )
            self.fields[f"op_{number}"] = forms.ChoiceField(
                label=_("Operator"), choices=OP_CHOICES, required=False
            )
            self.fields[f"value_{number}"] = forms.CharField(
                label=_("Value"),
                required=False,
                max_length=200,
                help_text=_(
                    "Lists: comma-separated. Percentages as a number from 0 to 100; coded values by name."
                ),
            )
            rows.append(
                Row(
                    Column(Field(f"field_{number}"), css_class="col-md-5"),
                    Column(Field(f"op_{number}"), css_class="col-md-3"),
                    Column(Field(f"value_{number}"), css_class="col-md-4"),
                )
            )
        for number, condition in enumerate(initial_rule or [], start=1):
            if number > RULE_ROWS:
                break
            self.initial[f"field_{number}"] = condition["field"]
            self.initial[f"op_{number}"] = condition["op"]
            self.initial[f"value_{number}"] = value_text(condition["field"], condition["value"])
        self.helper = FormHelper()
        self.helper.layout = Layout("name", "description", *rows, Submit("save", _("Save segment")))

    @staticmethod
    def value_names() -> list[tuple[Any, list[str]]]:
        """The names a coded field's value is typed as, for the hint under the form."""
        names = []
        for name, (_path, _kind, label) in FIELDS.items():
            choices = field_choices(name)
            if choices is not None:
                names.append((label, [str(choice) for choice in choices.values()]))
        return names

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned is None:  # as Django itself does: a clean() returning None keeps cleaned_data
            cleaned = self.cleaned_data
        rule = []
        for number in range(1, RULE_ROWS + 1):
            field, op, value = (cleaned.get(f"{part}_{number}") for part in ("field", "op", "value"))
            if not field and not op and not value:
                continue
            if not field or not op:
                self.add_error(f"field_{number}", _("Choose a field and an operator (or clear the row)."))
                continue
            rule.append({"field": field, "op": op, "value": value or ""})
        if not rule:
            raise ValidationError(_("Give at least one condition."))
        try:
            cleaned["rule"] = validate_rule(rule_from_entry(rule))
        except ValidationError as error:
            raise ValidationError(error.messages) from error
        return cleaned


class MemberFilterForm(ListFilterForm):
    """Narrow a segment's member list (GET, so the filtered page can be linked and exported)."""

    q = forms.CharField(label=_("Customer name"), required=False, max_length=100)
    rfm_segment = forms.ChoiceField(label=_("RFM segment"), required=False, choices=())
    # Typed as a percentage, as the pages show churn risk; the selector gets the stored 0..1 value.
    min_churn = forms.FloatField(
        label=_("Churn risk at least (%)"), required=False, min_value=0, max_value=100
    )
    min_clv = forms.DecimalField(
        label=_("CLV at least"), required=False, min_value=0, max_digits=14, decimal_places=2
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        segments = field_choices("rfm_segment") or {}
        field = self.fields["rfm_segment"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Any"))] + [(k, v) for k, v in segments.items()]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "row row-cols-lg-auto g-2 align-items-end"
        self.helper.layout = Layout(
            *(Field(name, wrapper_class="col-12") for name in self.fields),
            Submit("filter", _("Filter"), css_class="btn-sm"),
        )

    def clean_min_churn(self) -> float | None:
        percent = self.cleaned_data.get("min_churn")
        return None if percent is None else percent / 100


class EventImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "A CSV file (UTF-8, or the encoding chosen below). Columns: customer_id or "
            "customer_external_id, event_type, occurred_at (1900-01-01 to tomorrow), channel, "
            "idempotency_key, properties (a JSON object) and/or query (required for search events)."
        ),
    )
    encoding = encoding_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout("file", "encoding", Submit("upload", _("Import events")))


class RebuildForm(forms.Form):
    as_of = forms.DateField(
        label=_("As of"),
        required=False,
        help_text=_("Leave empty for now; a date computes the profiles as they were at the end of that day."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_class = "row row-cols-lg-auto g-2 align-items-end"
        self.helper.layout = Layout(
            Field("as_of", wrapper_class="col-12"), Submit("rebuild", _("Rebuild now"))
        )

    # The pipeline's timestamps (datetime64[ns]) start in 1677; a day after today has no data yet.
    FIRST_AS_OF = date(1678, 1, 1)

    def clean_as_of(self) -> date | None:
        day = self.cleaned_data.get("as_of")
        if day is not None and not self.FIRST_AS_OF <= day <= timezone.localdate():
            raise ValidationError(
                _("Choose a day from %(first)s to today."), params={"first": self.FIRST_AS_OF.isoformat()}
            )
        return day


PROFILE_MODEL = CustomerProfile
