"""The product catalogue: categories (a tree) and products."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.utils.text import slugify

from crm_site.db import atomic
from orders.models import Product, ProductCategory
from orders.services.sales import money


@atomic
def product_category_create(
    *, name: str, parent: ProductCategory | None = None, code: str = ""
) -> ProductCategory:
    """A category under ``parent`` (or at the top); ``root`` is kept pointing at the top-level ancestor."""
    category = ProductCategory(
        name=name, parent=parent, code=code or slugify(name) or f"cat-{secrets.token_hex(4)}"
    )
    category.full_clean()
    category.root = parent.root or parent if parent else None
    category.save()
    if category.root is None:
        category.root = category
        category.save(update_fields=["root"])
    return category


@atomic
def product_create(
    *,
    sku: str,
    name: str,
    unit_price: Decimal,
    category: ProductCategory | None = None,
    currency: str = "CNY",
    active: bool = True,
) -> Product:
    product = Product(
        sku=sku.strip(),
        name=name,
        unit_price=money(unit_price),
        category=category,
        currency=currency,
        active=active,
    )
    product.full_clean()
    product.save()
    return product


@atomic
def product_update(*, product: Product, **fields: Any) -> Product:
    allowed = {"sku", "name", "unit_price", "category", "currency", "active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"cannot update {sorted(unknown)} through product_update")
    for name, value in fields.items():
        setattr(product, name, money(value) if name == "unit_price" else value)
    product.full_clean()
    product.save()
    return product
