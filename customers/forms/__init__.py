"""Forms of the customers app (crispy FormHelpers live with each form)."""

from customers.forms.choice import CustomerChoiceField, CustomerPickerWidget
from customers.forms.customers import (
    FORMSET_HELPER,
    AddressFormSet,
    ContactMethodFormSet,
    CustomerFilterForm,
    CustomerForm,
    ImportMappingForm,
    ImportUploadForm,
    MergeForm,
    PartnerFilterForm,
    PartnerForm,
    custom_form_field,
    formset_rows,
)
from customers.forms.links import RelationshipForm, ShareForm

__all__ = [
    "FORMSET_HELPER",
    "AddressFormSet",
    "ContactMethodFormSet",
    "CustomerChoiceField",
    "CustomerFilterForm",
    "CustomerForm",
    "CustomerPickerWidget",
    "ImportMappingForm",
    "ImportUploadForm",
    "MergeForm",
    "PartnerFilterForm",
    "PartnerForm",
    "RelationshipForm",
    "ShareForm",
    "custom_form_field",
    "formset_rows",
]
