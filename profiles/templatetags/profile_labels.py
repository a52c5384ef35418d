"""Template filters that show computed profile names in the active language."""

from typing import Any

from django import template

from profiles import labels

register = template.Library()


@register.filter
def cluster_label(name: str) -> str:
    return labels.cluster_label(name)


@register.filter
def segment_label(segment: Any) -> str:
    return labels.segment_label(segment)
