"""The one paginator of the list pages: numbered pages that never run ``COUNT(*)``.

A page reads one row more than it shows; that extra row says whether a next page exists. Counting a
1,000,000-row table (what Django's ``Paginator`` does on every page) is what makes big lists slow, and
a list page needs no total to offer "Previous / Page n / Next" (``templates/includes/_pagination.html``).

Use it in a ``ListView`` with ``paginator_class = CountFreePaginator`` (``crm_site.listing.FilteredListMixin``
does), or by hand with ``CountFreePaginator(rows, size).get_page(request.GET.get("page"))``.
A page past the end is empty: ``page()`` raises ``EmptyPage`` (a ListView answers 404, as Django's does),
``get_page()`` shows it empty. Pages beyond ``max_pages`` are refused (deep offsets are slow anyway).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class CountFreePage(Page):
    """A page that knows whether a next page exists from the one extra row it read."""

    def __init__(self, rows: list[Any], number: int, paginator: CountFreePaginator) -> None:
        size = paginator.per_page
        super().__init__(rows[:size], number, paginator)
        self._has_next = len(rows) > size

    def has_next(self) -> bool:
        return self._has_next

    def start_index(self) -> int:
        if not self.object_list:
            return 0
        return self.paginator.per_page * (self.number - 1) + 1

    def end_index(self) -> int:
        return self.paginator.per_page * (self.number - 1) + len(self.object_list)


class CountFreePaginator(Paginator):
    """Django's Paginator interface without the COUNT: ``page(n)`` runs one query of ``per_page + 1`` rows."""

    max_pages = 10_000

    def __init__(self, object_list: Any, per_page: int | str, orphans: int = 0, **kwargs: Any) -> None:
        # Orphans need the total, which this paginator never reads.
        super().__init__(object_list, per_page, orphans=0, **kwargs)

    @cached_property
    def num_pages(self) -> int:  # type: ignore[override]
        """Unknown without a count: the upper bound (``?page=last`` is then past the end, not a COUNT)."""
        return self.max_pages

    def validate_number(self, number: Any) -> int:
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(_("That page number is not an integer")) from exc
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        if number > self.max_pages:
            raise EmptyPage(_("That page contains no results"))
        return number

    def page(self, number: Any) -> CountFreePage:
        number = self.validate_number(number)
        start = (number - 1) * self.per_page
        rows = list(self.object_list[start : start + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(_("That page contains no results"))
        return CountFreePage(rows, number, self)

    def get_page(self, number: Any) -> CountFreePage:
        """Like ``page`` but never raises: an unusable number is page 1, a page past the end is empty."""
        try:
            number = int(number)
        except (TypeError, ValueError):
            number = 1
        number = max(1, min(number, self.max_pages))
        start = (number - 1) * self.per_page
        return CountFreePage(list(self.object_list[start : start + self.per_page + 1]), number, self)
