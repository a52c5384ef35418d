"""Template filters that show computed profile names in the active language."""

from typing import Any

from django import template
from django.utils import formats

from profiles import labels

register = template.Library()


@register.filter
def cluster_label(name: str) -> str:
    return labels.cluster_label(name)


@register.filter
def segment_label(segment: Any) -> str:
    return labels.segment_label(segment)


@register.filter
def share(value: Any) -> str:
    """0.25 -> "25%" in the active language's number format; "" when there is no value."""
    if value is None or value == "":
        return ""
    return f"{formats.number_format(float(value) * 100, decimal_pos=0)}%"


def _channel_label(channel: str) -> str:
    from sessions_log.models import Interaction

    return str(dict(Interaction.Channel.choices).get(channel, channel))


@register.filter
def contact_channels(shares: Any) -> str:
    """{"call": 0.5, "email": 0.25} -> "Phone call 50% · Email 25%", largest share first."""
    if not isinstance(shares, dict) or not shares:
        return ""
    return " · ".join(
        f"{_channel_label(channel)} {share(value)}"
        for channel, value in sorted(shares.items(), key=lambda item: -float(item[1] or 0))
    )


@register.filter
def percent_1(value: Any) -> str:
    """0.0123 -> "1.2%" (one decimal: stability shares are small); "" when there is no value."""
    if value is None or value == "":
        return ""
    return f"{formats.number_format(float(value) * 100, decimal_pos=1)}%"
