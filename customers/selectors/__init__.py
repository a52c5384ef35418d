"""Reads of customer data, scoped per user. Other apps import from here, never from models directly."""

from customers.selectors.choices import CustomerChoice, customer_choice_get, customer_choices
from customers.selectors.customers import (
    SORTS,
    KeysetPage,
    bounded_count,
    custom_field_definitions,
    customer_by_reference,
    customer_get,
    customer_ids_by_external_id,
    customer_list,
    customer_page,
    customer_relationships,
    customer_shares,
    customers_for_profiles,
    decode_cursor,
    tags_for_customers,
)
from customers.selectors.detail import (
    customer_custom_values,
    customer_detail_data,
    customer_merges,
    relationship_get,
    share_target_get,
)
from customers.selectors.duplicates import duplicate_candidates, duplicate_groups
from customers.selectors.imports import customer_import_get, customer_import_list
from customers.selectors.partners import (
    partner_contacts,
    partner_customers,
    partner_editable,
    partner_get,
    partner_list,
)
from customers.selectors.visibility import (
    customer_rule,
    visible_customer_by_key,
    visible_customer_ids,
    visible_customers,
)

__all__ = [
    "SORTS",
    "CustomerChoice",
    "KeysetPage",
    "bounded_count",
    "custom_field_definitions",
    "customer_choice_get",
    "customer_choices",
    "customer_by_reference",
    "customer_custom_values",
    "customer_detail_data",
    "customer_merges",
    "customer_shares",
    "customer_get",
    "customer_import_get",
    "customer_import_list",
    "customer_ids_by_external_id",
    "customer_list",
    "customer_page",
    "customer_relationships",
    "customer_rule",
    "customers_for_profiles",
    "decode_cursor",
    "duplicate_candidates",
    "duplicate_groups",
    "partner_contacts",
    "partner_customers",
    "partner_editable",
    "partner_get",
    "partner_list",
    "relationship_get",
    "share_target_get",
    "tags_for_customers",
    "visible_customer_by_key",
    "visible_customer_ids",
    "visible_customers",
]
