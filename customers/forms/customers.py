"""Forms: customer edit (with custom fields), inline contact methods/addresses, filters, merge, import."""

from __future__ import annotations

import datetime
from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Div, Fieldset, Layout, Row, Submit
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crm_site.listing import ListFilterForm
from crm_site.uploads import encoding_field
from crm_site.visibility import sees_everything
from customers.importing import TARGETS
from customers.models import Address, ContactMethod, Customer, CustomFieldDefinition, Partner, Tag
from customers.selectors import SORTS, custom_field_definitions, decode_cursor
from customers.services import custom_attributes_clean

FieldType = CustomFieldDefinition.FieldType
CUSTOM_NUMBER_LIMIT = 10**15
CUSTOM_DATE_MIN, CUSTOM_DATE_MAX = datetime.date(1900, 1, 1), datetime.date(2100, 12, 31)


def custom_form_field(definition: CustomFieldDefinition, *, for_filter: bool = False) -> forms.Field:
    """The Django form field for a custom field definition."""
    common: dict[str, Any] = {
        "label": definition.label,
        "required": definition.required and not for_filter,
        "help_text": "" if for_filter else definition.help_text,
    }
    if definition.field_type == FieldType.NUMBER:
        # Bounded: a 1000-digit number is no business value and overflows SQLite's integers.
        return forms.DecimalField(min_value=-CUSTOM_NUMBER_LIMIT, max_value=CUSTOM_NUMBER_LIMIT, **common)
    if definition.field_type == FieldType.DATE:
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}),
            validators=[MinValueValidator(CUSTOM_DATE_MIN), MaxValueValidator(CUSTOM_DATE_MAX)],
            **common,
        )
    if definition.field_type in (FieldType.CHOICE, FieldType.BOOLEAN):
        if definition.field_type == FieldType.BOOLEAN:
            choices = [("", "—"), ("yes", _("Yes")), ("no", _("No"))]
        else:
            choices = [("", "—"), *((c, c) for c in definition.choice_list())]
        return forms.ChoiceField(choices=choices, **common)
    return forms.CharField(max_length=1000, **common)


def https_formfield(db_field: models.Field, **kwargs: Any) -> forms.Field | None:
    """Model form fields as Django makes them, except that a URL typed without a scheme gets https://."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


def _owner_queryset() -> Any:
    return get_user_model().objects.filter(is_active=True).order_by("username")


class CustomerForm(forms.ModelForm):
    """The customer's own fields plus its custom fields (``cf_<key>``) and tags as text."""

    tag_names = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas."), max_length=500
    )

    class Meta:
        model = Customer
        formfield_callback = https_formfield
        fields = [
            "kind",
            "name",
            "gender",
            "birth_date",
            "company_name",
            "job_title",
            "industry",
            "company_size",
            "website",
            "tax_number",
            "lifecycle_stage",
            "source",
            "owner",
            "external_id",
            "marketing_consent",
            "consent_channel",
            "consent_note",
            "notes",
        ]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.definitions = custom_field_definitions()
        if sees_everything(user):
            cast(forms.ModelChoiceField, self.fields["owner"]).queryset = _owner_queryset()
        else:
            # Sales staff keep what they create; reassigning is a manager's call.
            del self.fields["owner"]
        for definition in self.definitions:
            self.fields[f"cf_{definition.key}"] = custom_form_field(definition)
            value = (self.instance.attributes or {}).get(definition.key)
            if definition.field_type == FieldType.BOOLEAN and value is not None:
                value = "yes" if value else "no"
            self.initial.setdefault(f"cf_{definition.key}", value)
        if not self.instance._state.adding:
            self.initial.setdefault("tag_names", ", ".join(self.instance.tags.values_list("name", flat=True)))
        self.helper = FormHelper()
        self.helper.form_tag = False
        custom = [f"cf_{d.key}" for d in self.definitions]
        self.helper.layout = Layout(
            Fieldset(
                _("Customer"),
                Row(Column("kind", css_class="col-md-3"), Column("name", css_class="col-md-9")),
                Row(
                    Column("gender", css_class="col-md-4"),
                    Column("birth_date", css_class="col-md-4"),
                    Column("external_id", css_class="col-md-4"),
                ),
                Row(
                    Column("lifecycle_stage", css_class="col-md-4"),
                    Column("source", css_class="col-md-4"),
                    *([Column("owner", css_class="col-md-4")] if "owner" in self.fields else []),
                ),
                "tag_names",
            ),
            Fieldset(
                _("Company"),
                Row(Column("company_name", css_class="col-md-6"), Column("job_title", css_class="col-md-6")),
                Row(
                    Column("industry", css_class="col-md-4"),
                    Column("company_size", css_class="col-md-4"),
                    Column("tax_number", css_class="col-md-4"),
                ),
                "website",
            ),
            Fieldset(
                _("Marketing consent"),
                Row(
                    Column("marketing_consent", css_class="col-md-3"),
                    Column("consent_channel", css_class="col-md-3"),
                    Column("consent_note", css_class="col-md-6"),
                ),
            ),
            *([Fieldset(_("Custom fields"), *custom)] if custom else []),
            "notes",
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        raw = {}
        for definition in self.definitions:
            value = cleaned.get(f"cf_{definition.key}")
            if definition.field_type == FieldType.BOOLEAN and value in ("yes", "no"):
                value = value == "yes"
            raw[definition.key] = value
        try:
            cleaned["attributes"] = custom_attributes_clean(raw, existing=self.instance.attributes)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                self.add_error(key if key in self.fields else None, messages)
        return cleaned

    def service_fields(self) -> dict[str, Any]:
        """The cleaned values as keyword arguments of ``customer_save``."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.fields}
        data["attributes"] = self.cleaned_data.get("attributes", {})
        data["external_id"] = data.get("external_id") or None
        if self.instance._state.adding and "owner" not in self.fields:
            data["owner"] = self.user
        return data

    def tag_list(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data.get("tag_names", "").split(",") if name.strip()]


def _formset_helper() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.template = "bootstrap5/table_inline_formset.html"
    return helper


class LabelledRowsFormSet(forms.BaseInlineFormSet):
    """Inline rows shown as a table: each input is named by its column and row for screen readers.

    The table's header cells are not labels, so without this every row's input has no accessible name
    (WCAG 1.3.1/4.1.2).
    """

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        row = _("new row") if index is None else index + 1
        for field in form.fields.values():
            field.widget.attrs["aria-label"] = _("%(field)s, row %(row)s") % {
                "field": field.label,
                "row": row,
            }


ContactMethodFormSet: type[
    forms.BaseInlineFormSet[ContactMethod, Customer, forms.ModelForm[ContactMethod]]
] = forms.inlineformset_factory(
    Customer,
    ContactMethod,
    formset=LabelledRowsFormSet,
    fields=["kind", "value", "label", "is_primary", "is_verified", "do_not_contact"],
    extra=1,
    can_delete=True,
)
AddressFormSet: type[forms.BaseInlineFormSet[Address, Customer, forms.ModelForm[Address]]] = (
    forms.inlineformset_factory(
        Customer,
        Address,
        formset=LabelledRowsFormSet,
        fields=["label", "country", "province", "city", "district", "street", "postal_code", "is_default"],
        extra=1,
        can_delete=True,
    )
)
FORMSET_HELPER = _formset_helper()


def formset_rows(formset: forms.BaseInlineFormSet) -> list[dict[str, Any]]:
    """The changed rows of an inline formset as service input (``id``/``delete`` plus fields)."""
    rows = []
    for form in formset.forms:
        # UUID keys are set before saving, so "new row" is _state.adding, not a missing pk.
        existing = not form.instance._state.adding
        if not form.has_changed() and not existing:
            continue
        deleting = formset.can_delete and form.cleaned_data.get("DELETE", False)
        if deleting and not existing:
            continue
        row = {"id": form.instance.pk if existing else None, "delete": deleting}
        if not deleting:
            row.update(
                {
                    name: value
                    for name, value in form.cleaned_data.items()
                    if name not in ("id", "DELETE", formset.fk.name)
                }
            )
        rows.append(row)
    return rows


class CustomerFilterForm(ListFilterForm):
    """The list's search box, filters, sort and page cursor, all optional (GET)."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_("Name or company (1–2 characters match the start), phone, email or WeChat."),
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none(), required=False)
    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", "—"), *Customer.LifecycleStage.choices]
    )
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", "—"), *Customer.Source.choices]
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", "—"), *Customer.Kind.choices])
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.all(), required=False)
    consent = forms.ChoiceField(
        label=_("Marketing consent"), required=False, choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))]
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("name", _("Name A–Z")),
            ("-name", _("Name Z–A")),
            ("-created", _("Newest first")),
            ("created", _("Oldest first")),
            ("-updated", _("Recently changed")),
        ],
    )

    cursor = forms.CharField(label=_("Page"), required=False, max_length=500, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = _owner_queryset()
        self.definitions = custom_field_definitions(filterable_only=True)
        for definition in self.definitions:
            self.fields[f"cf_{definition.key}"] = custom_form_field(definition, for_filter=True)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        cursor = cleaned.get("cursor")
        if cursor and decode_cursor(cursor, sort=cleaned.get("sort") or "name") is None:
            self.add_error("cursor", _("This page link is not valid any more; start from the first page."))
        return cleaned

    def filters(self) -> dict[str, Any]:
        """Selector filters from the cleaned input (call when the form is valid; see crm_site.listing)."""
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        filters: dict[str, Any] = {}
        for name in ("q", "stage", "source", "kind", "consent"):
            if data.get(name):
                filters[name] = data[name]
        if data.get("owner"):
            filters["owner"] = data["owner"].pk
        if data.get("tag"):
            filters["tag"] = data["tag"].pk
        for definition in self.definitions:
            value = data.get(f"cf_{definition.key}")
            if value not in (None, ""):
                filters[f"cf_{definition.key}"] = value
        return filters

    def sort_key(self) -> str:
        value = (getattr(self, "cleaned_data", None) or {}).get("sort") or "name"
        return value if value in SORTS else "name"

    def cursor_value(self) -> str | None:
        return (getattr(self, "cleaned_data", None) or {}).get("cursor") or None


class MergeForm(forms.Form):
    """Which record to keep and, for each field that differs, which record's value.

    Values name the records ("a": the URL's first customer, "b": the second), not their roles, so the
    choices keep their meaning when the user switches the record to keep and previews again.
    """

    KEYS = ("a", "b")

    def __init__(
        self,
        *args: Any,
        first: Customer,
        second: Customer,
        survivor: Customer,
        history: dict[Any, dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        from customers.services.merge import merge_field_rows

        super().__init__(*args, **kwargs)
        self.records = {"a": first, "b": second}
        default_key = "a" if survivor.pk == first.pk else "b"
        self.fields["keep"] = forms.ChoiceField(
            label=_("Record to keep"),
            choices=[(key, self._record_label(self.records[key], history)) for key in self.KEYS],
            initial=default_key,
            required=False,
            widget=forms.RadioSelect,
            help_text=_("By default the record with the most history."),
        )
        loser = second if default_key == "a" else first
        side_key = {"survivor": default_key, "loser": "b" if default_key == "a" else "a"}
        self.field_rows = [row for row in merge_field_rows(survivor, loser) if row["differs"]]
        for row in self.field_rows:
            values = {side_key["survivor"]: row["survivor"], side_key["loser"]: row["loser"]}
            self.fields[row["name"]] = forms.ChoiceField(
                label=capfirst(row["label"]),
                choices=[(key, str(values[key])) for key in self.KEYS],
                initial=side_key[row["default"]] if row["default"] else None,
                # Left out, a field takes its rule's value; one without a default must be chosen.
                required=row["default"] is None,
                widget=forms.RadioSelect,
                help_text=_("Default: %(reason)s.") % {"reason": row["reason"]},
                error_messages={
                    "required": _("Choose which value to keep: neither record says when it was given.")
                },
            )
        self.helper = FormHelper()
        # "Preview" first: the button Enter submits merges nothing.
        preview = Submit("preview", _("Preview"))
        preview.field_classes = "btn btn-outline-secondary me-2"  # not btn-primary's colours underneath
        merge = Submit("merge", _("Merge"))
        merge.field_classes = "btn btn-danger"
        self.helper.add_input(preview)
        self.helper.add_input(merge)

    @staticmethod
    def _record_label(customer: Customer, history: dict[Any, dict[str, Any]]) -> str:
        facts = ", ".join(
            f"{fact.label}: {fact.count}" for fact in history.get(customer.pk, {}).get("facts", [])
        )
        created = formats.date_format(timezone.localtime(customer.created_at), "SHORT_DATE_FORMAT")
        return _("%(name)s (created %(created)s; %(facts)s)") % {
            "name": customer.name,
            "created": created,
            "facts": facts,
        }

    def _keep_key(self, data: dict[str, Any]) -> str:
        key = data.get("keep")
        return str(key if key in self.KEYS else self.fields["keep"].initial)

    def survivor_and_loser(self, data: dict[str, Any] | None = None) -> tuple[Customer, Customer]:
        """The record kept and the one merged into it (by the cleaned data, else the defaults)."""
        key = self._keep_key(self.cleaned_data if data is None else data)
        other = "b" if key == "a" else "a"
        return self.records[key], self.records[other]

    def choices(self, data: dict[str, Any] | None = None) -> dict[str, str]:
        """{field: "survivor" or "loser"} for each differing field chosen (cleaned data, or ``data``)."""
        data = self.cleaned_data if data is None else data
        keep = self._keep_key(data)
        return {
            row["name"]: ("survivor" if data[row["name"]] == keep else "loser")
            for row in self.field_rows
            if data.get(row["name"]) in self.KEYS
        }

    def initial_choices(self) -> dict[str, Any]:
        return {name: field.initial for name, field in self.fields.items()}


class PartnerForm(forms.ModelForm):
    """A partner's fields; only managers see (and may change) the owner."""

    class Meta:
        model = Partner
        formfield_callback = https_formfield
        fields = ["kind", "name", "owner", "website", "phone", "email", "city", "notes", "is_active"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None and sees_everything(user):
            cast(forms.ModelChoiceField, self.fields["owner"]).queryset = _owner_queryset()
        else:
            del self.fields["owner"]
        self.helper = FormHelper()
        self.helper.layout = Layout(Div(*self.fields))
        self.helper.add_input(Submit("save", _("Save")))


class PartnerFilterForm(ListFilterForm):
    """The partner list's query string."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", "—"), *Partner.Kind.choices])
    active = forms.BooleanField(label=_("Active only"), required=False)
    mine = forms.BooleanField(label=_("Mine only"), required=False)


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))
    encoding = encoding_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"enctype": "multipart/form-data"}
        self.helper.add_input(Submit("upload", _("Upload")))


class ImportMappingForm(forms.Form):
    """One select per target field, offering the file's columns."""

    def __init__(
        self, *args: Any, headers: list[str], initial_mapping: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        columns = [("", _("— not imported —")), *((header, header) for header in headers if header)]
        targets = dict(TARGETS)
        targets.update({f"cf_{d.key}": d.label for d in custom_field_definitions()})
        for target, label in targets.items():
            self.fields[target] = forms.ChoiceField(
                label=label, choices=columns, required=False, initial=initial_mapping.get(target, "")
            )
        self.helper = FormHelper()
        self.helper.form_class = "row row-cols-md-3 g-2"
        self.helper.add_input(Submit("check", _("Check the rows (dry run)")))

    def mapping(self) -> dict[str, str]:
        return {target: column for target, column in self.cleaned_data.items() if column}
