"""Project-wide signals that let lower apps announce things higher apps react to.

``customer_activity``: something happened that changes what we know of some customers (an order saved,
an event ingested). Sent after commit with ``customer_ids=[...]``; the profiles app refreshes them.
"""

from django.dispatch import Signal

customer_activity = Signal()
