"""Customer master data: customers, their contact methods, addresses, tags, partners and relations."""

from customers.models.contact import Address, ContactMethod
from customers.models.custom_fields import CustomFieldDefinition
from customers.models.customer import (
    Customer,
    CustomerQuerySet,
    CustomerShare,
    CustomerTag,
    CustomerTeamShare,
    Tag,
)
from customers.models.imports import CustomerImport
from customers.models.merge import CustomerMerge
from customers.models.partner import Partner, PartnerContact, Relationship
from customers.models.privacy import (
    ConsentPurpose,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    DataSubjectRequest,
    Suppression,
)

__all__ = [
    "Address",
    "ConsentPurpose",
    "ConsentRecord",
    "ConsentSource",
    "ConsentState",
    "ContactMethod",
    "CustomFieldDefinition",
    "Customer",
    "CustomerImport",
    "CustomerMerge",
    "CustomerQuerySet",
    "CustomerShare",
    "CustomerTag",
    "CustomerTeamShare",
    "DataSubjectRequest",
    "Partner",
    "PartnerContact",
    "Relationship",
    "Suppression",
    "Tag",
]
