"""Writes of customer data. Other apps call these, never the models' save()/delete()."""

from customers.services.customers import (
    address_save,
    contact_method_save,
    custom_attributes_clean,
    customer_assign_owner,
    customer_create,
    customer_delete,
    customer_save,
    customer_set_consent,
    customer_set_tags,
    customer_update,
    customers_bulk_create_minimal,
    partner_save,
    relationship_create,
)
from customers.services.links import (
    customer_share_with,
    customer_unshare_with,
    relationship_delete,
    sharing_allowed,
)
from customers.services.merge import customer_merge

__all__ = [
    "address_save",
    "contact_method_save",
    "custom_attributes_clean",
    "customer_assign_owner",
    "customer_create",
    "customer_delete",
    "customer_merge",
    "customer_save",
    "customer_set_consent",
    "customer_set_tags",
    "customer_share_with",
    "customer_unshare_with",
    "relationship_delete",
    "sharing_allowed",
    "customer_update",
    "customers_bulk_create_minimal",
    "partner_save",
    "relationship_create",
]
