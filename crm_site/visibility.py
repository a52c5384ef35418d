"""Record visibility: the one mechanism that narrows a query to the rows a user may see.

Modelled on NetBox's ``RestrictedQuerySet.restrict(user, action)``: one queryset method, every model.

- Managers and superusers see everything (``sees_everything``); anonymous users see nothing.
- A model whose rows are per user gets a ``VisibleQuerySet`` manager and declares how a sales user
  reaches a row: ``visibility_owners`` (fields naming the user: owner, assignee, created_by),
  ``visibility_via`` (foreign keys: the row is visible when the object it points to is, by that model's
  own rule) and/or a rule registered for the model with ``register_rule``. The customer rule (owner,
  direct share, team share) is registered by the customers app (``customers/selectors/visibility.py``);
  crm_site never imports it.
- ``qs.visible_to(user)`` applies the declaration. Every object it yields is marked as checked for that
  user, so a page that obtained an object through it can reuse the check:
  ``SalesOrder.objects.visible_to(user, within=customer)`` is a plain ``customer = ...`` filter when
  ``customer`` carries the mark (every row of a visible customer is visible), and the full rule otherwise.
  Only ``visible_to`` sets the mark; a query that may widen the result (``|``, ``^``, ``union``...) drops it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import reduce
from operator import or_
from typing import Any, Self

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.query import ModelIterable

from crm_site.db import is_mongodb

MANAGER_GROUP = "Manager"

Rule = Callable[[Any], models.Q]

# model label ("customers.Customer") -> the Q a non-manager user's visible rows satisfy
_RULES: dict[str, Rule] = {}

# Attribute set on objects that came out of visible_to(user): (user pk, object pk) when checked.
_CHECKED = "_crm_visible_to"


def sees_everything(user: Any) -> bool:
    """Superusers and members of the Manager group see every record (cached on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_crm_sees_everything", None)
    if cached is None:
        cached = user.groups.filter(name=MANAGER_GROUP).exists()
        user._crm_sees_everything = cached
    return bool(cached)


def register_rule(model_label: str, rule: Rule) -> None:
    """Make ``rule(user) -> Q`` decide which rows of ``model_label`` a (non-manager) user may see."""
    _RULES[model_label] = rule


def checked(obj: Any, user: Any) -> bool:
    """Whether ``obj`` came out of ``visible_to(user)`` for this very user (and still has the same pk)."""
    mark = obj.__dict__.get(_CHECKED)
    return bool(mark is not None and user.is_authenticated and mark == (user.pk, obj.pk))


class _CheckedModelIterable(ModelIterable):
    """Model instances marked as checked for the user the queryset was narrowed to (if it was)."""

    def __iter__(self) -> Iterator[Any]:
        user_pk = getattr(self.queryset, "_checked_for", None)
        for obj in super().__iter__():
            if user_pk is not None:
                obj.__dict__[_CHECKED] = (user_pk, obj.pk)
            yield obj


class VisibleQuerySet(models.QuerySet):
    """A QuerySet that narrows itself to the rows a user may see (see the module docstring)."""

    # Fields holding the user a row belongs to (any of them is enough).
    visibility_owners: tuple[str, ...] = ()
    # Foreign keys: a row is visible to whoever may see the object it points to.
    visibility_via: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._iterable_class = _CheckedModelIterable
        self._checked_for: Any = None

    # Django's private hooks (not in django-stubs): every derived queryset keeps the mark, ...
    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]
        clone._checked_for = self._checked_for
        return clone

    def _unchecked(self) -> Self:
        clone = self.all()
        clone._checked_for = None
        return clone

    def visible_to(self, user: Any, *, within: models.Model | None = None) -> Self:
        """The rows ``user`` may see; with ``within``, only those pointing at that object.

        ``within`` is an object of a ``visibility_via`` model. If the page got it from
        ``visible_to(user)`` (it carries the mark), the filter is plain equality on that foreign key,
        no rule re-applied; any other object gets the full rule as well.
        """
        if within is not None:
            narrowed = self.filter(**{self._via_field_to(within): within})
            if checked(within, user):
                return narrowed._marked(user)
            return narrowed.visible_to(user)
        if sees_everything(user):
            return self._marked(user)
        if not user.is_authenticated:
            return self.none()
        return self.filter(self.visibility_condition(user))._marked(user)

    def visibility_condition(self, user: Any) -> models.Q:
        """The Q a visible row satisfies for an authenticated user who does not see everything."""
        conditions: list[models.Q] = []
        for name in self.visibility_via:
            related = self.model._meta.get_field(name).related_model
            visible = related._default_manager.all().visible_to(user)  # type: ignore[union-attr]
            pks: Any = visible.values("pk")
            if is_mongodb():
                # MongoDB runs an IN-subquery as a $lookup on every row; an id list uses the field's index.
                pks = list(visible.values_list("pk", flat=True))
            conditions.append(models.Q(**{f"{name}__in": pks}))
        conditions.extend(models.Q(**{name: user}) for name in self.visibility_owners)
        rule = _RULES.get(self.model._meta.label)
        if rule is not None:
            conditions.append(rule(user))
        if not conditions:
            # Never fall back to "everything": a model without a rule is a configuration error.
            raise ImproperlyConfigured(f"No visibility rule for {self.model._meta.label}.")
        return reduce(or_, conditions)

    def _marked(self, user: Any) -> Self:
        clone = self.all()
        clone._checked_for = user.pk
        return clone

    def _via_field_to(self, obj: models.Model) -> str:
        for name in self.visibility_via:
            related = self.model._meta.get_field(name).related_model
            if isinstance(obj, related):  # type: ignore[arg-type]
                return name
        raise TypeError(f"{self.model._meta.label} is not made visible through {type(obj).__name__}.")

    # ... except the operations that can widen a result: they forget that it was checked.
    def __or__(self, other: Any) -> Any:
        return _forget_check(super().__or__(other))

    def __xor__(self, other: Any) -> Any:
        return _forget_check(super().__xor__(other))  # type: ignore[misc]

    def _combinator_query(self, combinator: str, *other_qs: Any, all: bool = False) -> Any:  # noqa: A002
        return _forget_check(super()._combinator_query(combinator, *other_qs, all=all))  # type: ignore[misc]


def _forget_check(qs: Any) -> Any:
    return qs._unchecked() if isinstance(qs, VisibleQuerySet) else qs


class VisibleAdminMixin:
    """ModelAdmin whose querysets (changelist, change form, autocomplete) go through ``visible_to``.

    The admin site is open to managers only (``CRMAdminSite.has_permission``), so this narrows nothing
    today; it keeps the admin on the one mechanism if that ever changes.
    """

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).visible_to(request.user)  # type: ignore[misc]
