"""The MongoDB authentication backend: Django's ModelBackend, reading permissions by plain lookups.

Django reads a user's group permissions as ``Permission.objects.filter(group__in=user.groups.all())``:
on SQL databases one join; on MongoDB a ``$lookup`` from every permission into the group links with the
user's groups as a sub-pipeline run again for every link (seconds a request on the MongoDB-wire server,
and every page asks once, through ``has_perm``). Here the ids are read first, each by an indexed equality
(the user's group links by ``user_id``, those groups' permission links by ``group_id``), then the
permissions by id; a user with no direct permissions costs one query for them, not a join.
Installed by the settings on MongoDB only (``AUTHENTICATION_BACKENDS``); SQL databases keep Django's.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import QuerySet


class ModelBackend(DjangoModelBackend):
    def _get_user_permissions(self, user_obj: Any) -> QuerySet[Permission]:
        links = get_user_model().user_permissions.through.objects.filter(user_id=user_obj.pk)
        return _permissions(list(links.values_list("permission_id", flat=True)))

    def _get_group_permissions(self, user_obj: Any) -> QuerySet[Permission]:
        memberships = get_user_model().groups.through.objects.filter(user_id=user_obj.pk)
        group_ids = list(memberships.values_list("group_id", flat=True))
        if not group_ids:
            return Permission.objects.none()
        links = Group.permissions.through.objects.filter(group_id__in=group_ids)
        return _permissions(list(links.values_list("permission_id", flat=True)))


def _permissions(ids: list[Any]) -> QuerySet[Permission]:
    return Permission.objects.filter(pk__in=ids) if ids else Permission.objects.none()
