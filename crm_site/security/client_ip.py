"""The client's IP address, trusting ``X-Forwarded-For`` only as far as the settings say.

``CRM_TRUSTED_PROXY_COUNT`` is the number of proxies of ours in front of Django (nginx, a load
balancer), each appending the address it received the request from. With 0 (the default) the header is
ignored: anyone can send it. With N, the N-th address from the right is the client as our outermost
proxy saw it; addresses further left were written by the client and are not trusted.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The address the request came from (``REMOTE_ADDR`` unless trusted proxies are configured)."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR", "")) or "unknown"
    proxies = int(getattr(settings, "CRM_TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        # Fewer hops than proxies: the request did not come through all of them; use the peer.
        return remote
    return _valid_ip(hops[-proxies]) or remote
