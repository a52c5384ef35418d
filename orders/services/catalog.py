"""The product catalogue: categories (a tree) and products."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.utils.text import slugify

from crm_site.db import atomic
from crm_site.services import UNCHANGED, Unchanged, given, model_update
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
def product_category_update(
    *, category: ProductCategory, name: str | None = None, parent: Any = ..., code: str | None = None
) -> ProductCategory:
    """Rename or move a category; a move re-points ``root`` of the whole subtree (one bulk update)."""
    if name is not None:
        category.name = name
    if code is not None:
        category.code = code
    if parent is not ...:
        category.parent = parent
    category.full_clean()  # refuses a parent inside the category's own subtree
    new_root = category.parent.root or category.parent if category.parent else category
    category.save()
    if category.root_id != new_root.pk:
        subtree = _subtree_ids(category.pk)
        ProductCategory.objects.filter(pk__in=subtree).update(root=new_root)
        category.root = new_root
    return category


def _subtree_ids(top: Any) -> list[Any]:
    """The category and all its descendants: the tree is small, so one query and a walk in Python."""
    children: dict[Any, list[Any]] = {}
    for pk, parent_id in ProductCategory.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, stack = [], [top]
    while stack:
        pk = stack.pop()
        found.append(pk)
        stack.extend(children.get(pk, []))
    return found


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


PRODUCT_FIELDS = ["sku", "name", "unit_price", "category", "currency", "active"]


@atomic
def product_update(
    *,
    product: Product,
    sku: str | Unchanged = UNCHANGED,
    name: str | Unchanged = UNCHANGED,
    unit_price: Decimal | Unchanged = UNCHANGED,
    category: ProductCategory | None | Unchanged = UNCHANGED,
    currency: str | Unchanged = UNCHANGED,
    active: bool | Unchanged = UNCHANGED,
) -> Product:
    """Change the given fields of a product, validated as a whole."""
    data = given(sku=sku, name=name, category=category, currency=currency, active=active)
    if not isinstance(unit_price, Unchanged):
        data["unit_price"] = money(unit_price)
    product, _updated = model_update(instance=product, fields=PRODUCT_FIELDS, data=data)
    return product
