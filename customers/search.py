"""The customers' source of the global search (registered from ``CustomersConfig.ready``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm_site.registry import SearchHit, SearchSource, search_sources


def customer_hits(*, user: Any, query: str, limit: int) -> list[SearchHit]:
    """Up to ``limit`` + 1 customers ``user`` may see matching ``query``, by the one matching rule."""
    from customers.selectors import customer_choices

    return [
        SearchHit(
            title=choice.name,
            url=reverse("customers:customer-detail", kwargs={"pk": choice.pk}),
            detail=" · ".join(part for part in (choice.company_name, choice.hint) if part),
        )
        for choice in customer_choices(user=user, query=query, limit=limit + 1)
    ]


def customer_search_notice(*, user: Any, query: str) -> str:
    """Said when a masked user's search by a contact value was over the reveal budget (issue 13)."""
    from customers.services.pii import contact_search_refused, contact_search_skipped_message

    return contact_search_skipped_message() if contact_search_refused(user=user, query=query) else ""


def customers_more_url(query: str) -> str:
    return f"{reverse('customers:index')}?{urlencode({'q': query})}"


def register() -> None:
    search_sources.register(
        SearchSource(
            key="customers",
            label=_("Customers"),
            search=customer_hits,
            more_url=customers_more_url,
            notice=customer_search_notice,
            permission="customers.view_customer",
            icon="people",
            order=10,
        )
    )
