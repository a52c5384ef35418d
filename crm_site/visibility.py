"""Record visibility: the one mechanism that narrows a query to the rows a user may see.

Modelled on NetBox's ``RestrictedQuerySet.restrict(user, action)``: one queryset method, every model.

- Managers and superusers see everything (``sees_everything``); anonymous users see nothing.
- Two actions: ``"view"`` (read the row) and ``"change"`` (edit, delete, move it). A model may lift its
  rule for one action for the holders of a permission named by convention ``<app>.<action>_all_<model>``
  and declared in its ``Meta.permissions`` (``customers.view_all_customer``: Service and Marketing read
  every customer; ``orders.change_all_serviceorder``: Service works every ticket). The roles that hold
  them are in ``crm_site/roles.py``; for every other user both actions apply the same rule.
- A model whose rows are per user gets a ``VisibleQuerySet`` manager and declares how a sales user
  reaches a row: ``visibility_owners`` (fields naming the user: owner, assignee, created_by),
  ``visibility_via`` (foreign keys: the row is visible when the object it points to is, by that model's
  own rule) and/or a rule registered for the model with ``register_rule``. The customer rule (owner,
  direct share, team share) is registered by the customers app (``customers/selectors/visibility.py``);
  crm_site never imports it.
- ``qs.visible_to(user, action="view")`` applies the declaration. Every object it yields is marked as checked
  for that user and action, so a page that obtained an object through it can reuse the check:
  ``SalesOrder.objects.visible_to(user, within=customer)`` is a plain ``customer = ...`` filter when
  ``customer`` carries the mark (every row of a visible customer is visible), and the full rule otherwise.
  Only ``visible_to`` sets the mark; a query that may widen the result (``|``, ``^``, ``union``...) drops it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import reduce
from operator import or_
from typing import Any, Literal, Self

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.query import ModelIterable

from crm_site.db import is_mongodb

MANAGER_GROUP = "Manager"

Action = Literal["view", "change"]
VIEW: Action = "view"
CHANGE: Action = "change"
ACTIONS: tuple[Action, ...] = (VIEW, CHANGE)

Rule = Callable[[Any], models.Q]

# model label ("customers.Customer") -> the Q a non-manager user's visible rows satisfy
_RULES: dict[str, Rule] = {}

# Attribute set on objects that came out of visible_to(user, action): (user pk, object pk, {actions}).
_CHECKED = "_crm_visible_to"


def user_groups(user: Any) -> list[tuple[Any, str]]:
    """The (pk, name) of every group (role or team) ``user`` is in: one query, cached on the user object."""
    cached = getattr(user, "_crm_groups", None)
    if cached is None:
        cached = list(user.groups.values_list("pk", "name")) if user.is_authenticated else []
        user._crm_groups = cached
    return cached


def sees_everything(user: Any) -> bool:
    """Superusers and members of the Manager group see every record (cached on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(name == MANAGER_GROUP for _pk, name in user_groups(user))


def all_rows_permission(model: type[models.Model], action: Action) -> str | None:
    """The permission that lifts ``model``'s rule for ``action``, if the model declares one.

    By convention ``<app_label>.<action>_all_<model_name>``, declared in the model's ``Meta.permissions``.
    """
    codename = f"{action}_all_{model._meta.model_name}"
    if any(name == codename for name, _label in model._meta.permissions):
        return f"{model._meta.app_label}.{codename}"
    return None


def sees_all(user: Any, model: type[models.Model], action: Action = VIEW) -> bool:
    """Whether ``user`` may ``action`` every row of ``model``: managers, or holders of its all-rows grant.

    Costs nothing for a model without such a permission; otherwise the user's permissions are read once
    (Django caches them on the user object, which a request keeps).
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown visibility action {action!r}; expected one of {ACTIONS}.")
    if sees_everything(user):
        return True
    if not user.is_authenticated or not user.is_active:
        return False
    permission = all_rows_permission(model, action)
    return permission is not None and user.has_perm(permission)


def register_rule(model_label: str, rule: Rule) -> None:
    """Make ``rule(user) -> Q`` decide which rows of ``model_label`` a (non-manager) user may see.

    The rule is the same for both actions; a model lifts it per action through its all-rows permission.
    """
    _RULES[model_label] = rule


def checked(obj: Any, user: Any, action: Action = VIEW) -> bool:
    """Whether ``obj`` came out of ``visible_to(user, action=...)`` for this very user and a covering action.

    A check for one action covers the other when the user's rule for the two is the same (``covers``).
    """
    mark = obj.__dict__.get(_CHECKED)
    if mark is None or not user.is_authenticated or mark[:2] != (user.pk, obj.pk):
        return False
    return any(have == action or covers(type(obj), user, have=have, want=action) for have in mark[2])


def covers(model: type[models.Model], user: Any, *, have: Action, want: Action) -> bool:
    """Whether every row of ``model`` visible to ``user`` for ``have`` is also visible for ``want``.

    True when the rule is the same for both actions, or ``want`` is lifted to all rows; through
    ``visibility_via`` the models pointed at must cover too.
    """
    if have == want or sees_all(user, model, want):
        return True
    if sees_all(user, model, have):
        return False
    queryset = model._default_manager.all()
    for name in getattr(queryset, "visibility_via", ()):
        related = model._meta.get_field(name).related_model
        if not covers(related, user, have=have, want=want):  # type: ignore[arg-type]
            return False
    return True


def allowed(user: Any, obj: Any, action: Action) -> bool:
    """Whether ``user`` may ``action`` this object: free when its check covers it, else one query.

    A positive answer is remembered on the object (its mark then covers ``action`` too).
    """
    if checked(obj, user, action):
        return True
    found = type(obj)._default_manager.all().visible_to(user, action=action).filter(pk=obj.pk).exists()
    if found:
        mark = obj.__dict__.get(_CHECKED)
        earlier = mark[2] if mark is not None and mark[:2] == (user.pk, obj.pk) else frozenset()
        obj.__dict__[_CHECKED] = (user.pk, obj.pk, earlier | {action})
    return bool(found)


def visible_object_or_404(queryset: Any, user: Any, *, action: Action = VIEW, **lookup: Any) -> Any:
    """The one object of ``queryset`` matching ``lookup`` that ``user`` may see, else Http404.

    With ``action="change"``, an object the user sees but may not change is a PermissionDenied (403):
    it tells them nothing they cannot already read; one they cannot see stays a 404.
    """
    from django.core.exceptions import PermissionDenied
    from django.shortcuts import get_object_or_404

    obj = get_object_or_404(queryset.visible_to(user), **lookup)
    if action != VIEW and not allowed(user, obj, action):
        raise PermissionDenied
    return obj


class _CheckedModelIterable(ModelIterable):
    """Model instances marked as checked for the user and action the queryset was narrowed to (if it was)."""

    def __iter__(self) -> Iterator[Any]:
        checked_for = getattr(self.queryset, "_checked_for", None)
        for obj in super().__iter__():
            if checked_for is not None:
                obj.__dict__[_CHECKED] = (checked_for[0], obj.pk, frozenset({checked_for[1]}))
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

    def visible_to(self, user: Any, *, action: Action = VIEW, within: models.Model | None = None) -> Self:
        """The rows ``user`` may ``action`` ("view" or "change"); with ``within``, only those pointing at it.

        ``within`` is an object of a ``visibility_via`` model. If the page got it from
        ``visible_to(user, action=...)`` for a covering action (it carries the mark), the filter is plain
        equality on that foreign key, no rule re-applied; any other object gets the full rule as well.
        """
        if within is not None:
            narrowed = self.filter(**{self._via_field_to(within): within})
            if checked(within, user, action):
                return narrowed._marked(user, action)
            return narrowed.visible_to(user, action=action)
        if sees_all(user, self.model, action):
            return self._marked(user, action)
        if not user.is_authenticated:
            return self.none()
        condition = self.visibility_condition(user, action=action)
        if condition is None:
            return self._marked(user, action)
        return self.filter(condition)._marked(user, action)

    def visibility_condition(
        self, user: Any, *, action: Action = VIEW, among: list[Any] | None = None
    ) -> models.Q | None:
        """The Q a row ``user`` may ``action`` satisfies (an authenticated user without the all-rows lift).

        None when every row is open: the model's only way in is one non-null ``visibility_via`` key whose
        model is open to the user in full for ``action``. A nullable key, or one of several ways in, that
        is open in full adds "points at something through this key" instead. With ``among`` (row pks),
        each ``visibility_via`` subquery only looks at the objects those rows point at (``visible_among``).
        """
        conditions: list[models.Q] = []
        only_way = (
            len(self.visibility_via) == 1
            and not self.visibility_owners
            and self.model._meta.label not in _RULES
        )
        for name in self.visibility_via:
            field = self.model._meta.get_field(name)
            related = field.related_model
            if sees_all(user, related, action):  # type: ignore[arg-type]
                if only_way and not field.null:
                    return None  # every row points at an object open to the user: every row is open
                # Open through this key only: the rows that point at something through it (a ticket's
                # history row is not open because its sales-order key is, when it has none).
                conditions.append(models.Q(**{f"{name}__isnull": False}))
                continue
            visible = related._default_manager.all().visible_to(user, action=action)  # type: ignore[union-attr]
            if among is not None:
                pointed_at: Any = self.model._base_manager.filter(pk__in=among).values(name)
                if is_mongodb():
                    pointed_at = list(pointed_at.values_list(name, flat=True))
                visible = visible.filter(pk__in=pointed_at)
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

    def visible_among(self, user: Any, pks: Iterable[Any], *, action: Action = VIEW) -> Self:
        """The rows among ``pks`` that ``user`` may ``action``: ``visible_to`` for a short list of candidates.

        The same rule, with each ``visibility_via`` subquery narrowed to the objects those rows point
        at, so its cost follows the number of candidates, not the size of the table pointed at: a search
        that found 200 tickets checks their customers, not the 500,000 a sales user may see (PostgreSQL
        answers the plain rule's ``customer_id IN (SELECT ...)`` beside an ``OR`` with a full scan).
        """
        wanted = list(pks)
        narrowed = self.filter(pk__in=wanted)
        if sees_all(user, self.model, action):
            return narrowed._marked(user, action)
        if not user.is_authenticated:
            return self.none()
        condition = self.visibility_condition(user, action=action, among=wanted)
        if condition is None:
            return narrowed._marked(user, action)
        return narrowed.filter(condition)._marked(user, action)

    def _marked(self, user: Any, action: Action) -> Self:
        clone = self.all()
        clone._checked_for = (user.pk, action)
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
    today; it keeps the admin on the one mechanism if that ever changes (rows it lists are rows the user
    may change).
    """

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).visible_to(request.user, action=CHANGE)  # type: ignore[misc]
