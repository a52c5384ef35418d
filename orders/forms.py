"""Forms: validate and shape input; the layout (crispy FormHelper) lives here too."""

from __future__ import annotations

from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm_site.forms import BoundedModelMultipleChoiceField, DateBoundsMixin
from crm_site.listing import ListFilterForm
from crm_site.uploads import UploadError, encoding_field, import_format
from customers.forms import CustomerChoiceField
from orders.models import Opportunity, Product, ProductCategory, Project, SalesOrder, ServiceOrder
from orders.models.common import MAX_QUANTITY

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _helper(label: Any = None) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", label or _("Save")))
    return helper


class UserFormMixin(DateBoundsMixin):
    """Forms that need the current user (to scope the customer field); dates are bounded."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        self.user = user
        if "customer" in self.fields:  # type: ignore[attr-defined]
            self.fields["customer"].user = user  # type: ignore[attr-defined]
        self.helper = _helper()


class SalesOrderForm(UserFormMixin, forms.ModelForm):
    customer = CustomerChoiceField()

    class Meta:
        model = SalesOrder
        fields = ["customer", "channel", "ordered_at", "currency", "order_discount", "notes"]
        widgets = {"ordered_at": DATETIME, "notes": forms.Textarea(attrs={"rows": 3})}


class OrderLineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(active=True).order_by("sku"), required=False
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=ProductCategory.objects.all(), required=False
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1)
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("Leave empty to use the product's price."),
    )
    discount = forms.DecimalField(
        label=_("Discount"), max_digits=14, decimal_places=2, min_value=0, initial=0
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Add line"))


class TransitionForm(forms.Form):
    status = forms.CharField(widget=forms.HiddenInput)


class ServiceOrderForm(UserFormMixin, forms.ModelForm):
    customer = CustomerChoiceField()

    class Meta:
        model = ServiceOrder
        fields = ["customer", "subject", "type", "priority", "assignee", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )


class TicketTransitionForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=ServiceOrder.Status.choices)
    resolution = forms.CharField(
        label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    satisfaction = forms.TypedChoiceField(
        label=_("Customer satisfaction"),
        choices=[("", "—"), *[(n, str(n)) for n in range(1, 6)]],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Update ticket"))


class ProjectForm(UserFormMixin, forms.ModelForm):
    customer = CustomerChoiceField()
    members = BoundedModelMultipleChoiceField(
        label=_("Members"), queryset=get_user_model().objects.none(), required=False
    )

    class Meta:
        model = Project
        fields = ["customer", "name", "stage", "budget", "currency", "start_date", "end_date"]
        widgets = {"start_date": DATE, "end_date": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = cast(forms.ModelMultipleChoiceField, self.fields["members"])
        members.queryset = get_user_model().objects.filter(is_active=True).order_by("username")


class MilestoneForm(DateBoundsMixin, forms.Form):
    name = forms.CharField(label=_("Milestone"), max_length=200)
    due_date = forms.DateField(label=_("Due date"), widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Add milestone"))


class OpportunityForm(UserFormMixin, forms.ModelForm):
    customer = CustomerChoiceField()
    probability = forms.IntegerField(
        label=_("Probability (%)"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Leave empty for the stage's usual probability."),
    )

    class Meta:
        model = Opportunity
        fields = [
            "customer",
            "name",
            "amount",
            "currency",
            "stage",
            "probability",
            "expected_close_date",
            "lost_reason",
        ]
        widgets = {"expected_close_date": DATE}


class OpportunityMoveForm(forms.Form):
    """The board's no-JavaScript move: pick a stage (and a reason when losing)."""

    stage = forms.ChoiceField(label=_("Move to"), choices=Opportunity.Stage.choices)
    lost_reason = forms.CharField(label=_("Reason lost"), max_length=200, required=False)


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["sku", "name", "category", "unit_price", "currency", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper()


class OrderImportForm(forms.Form):
    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        help_text=_(
            "One row per order line: customer_external_id, order_number, order_date, sku or category, "
            "quantity, amount; optional customer_name, channel, currency, status."
        ),
    )
    dry_run = forms.BooleanField(label=_("Dry run: check only, write nothing"), required=False, initial=True)
    create_customers = forms.BooleanField(label=_("Create unknown customers"), required=False)
    encoding = encoding_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Upload"))
        self.helper.form_enctype = "multipart/form-data"

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        try:
            found = import_format(upload)  # by the file's bytes, not its name
        except UploadError as exc:
            raise ValidationError(str(exc)) from exc
        # The import reads the file by its extension: make it say what the content is.
        stem = upload.name.rsplit(".", 1)[0] if "." in upload.name else upload.name
        upload.name = f"{stem or 'upload'}.{found}"
        return upload


# The list pages' query strings (crm_site.listing validates them before the selector runs).
def _any(choices: Any) -> list[tuple[str, Any]]:
    return [("", "—"), *choices]


class SalesOrderFilterForm(ListFilterForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_any(SalesOrder.Status.choices))
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=_any(SalesOrder.Channel.choices))
    customer = forms.UUIDField(label=_("Customer"), required=False)


class ServiceOrderFilterForm(ListFilterForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_any([("open", _("Open")), *ServiceOrder.Status.choices])
    )
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=_any(ServiceOrder.Priority.choices)
    )
    breached = forms.BooleanField(label=_("SLA breached"), required=False)
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)


class ProjectFilterForm(ListFilterForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    stage = forms.ChoiceField(label=_("Stage"), required=False, choices=_any(Project.Stage.choices))


class OpportunityFilterForm(ListFilterForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    stage = forms.ChoiceField(label=_("Stage"), required=False, choices=_any(Opportunity.Stage.choices))


class ProductFilterForm(ListFilterForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    active = forms.BooleanField(label=_("Active only"), required=False)
