"""Sortable list tables: `?tri=<column>` (ascending) or `?tri=-<column>` (descending), from a whitelist per page.

The sort travels in the URL with the filters; a header link keeps every other parameter but the page (a new order
starts at page 1). A value outside the page's columns is ignored: the list keeps its default order. Templates
render the headers with `includes/sortable_th.html`: `aria-sort` on the sorted column, a visible arrow, and a link
named by what it does (« Trier par nom, ordre croissant »).
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.expressions import BaseExpression, OrderBy

SORT_PARAMETER = "tri"

OrderItem = str | BaseExpression


@dataclass(frozen=True)
class SortColumn:
    """One sortable column: `key` in the URL, `label` as the header shows it (and its link's accessible name begins
    with), `order` the database ordering (ascending), or `value` a function giving each row's sort key when the rows
    are already in memory."""

    key: str
    label: str
    order: Sequence[OrderItem] = ()
    value: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class SortHeader:
    label: str
    url: str
    aria_sort: str  # "ascending", "descending", or "" when the list is not sorted by this column
    link_label: str  # what following the link does

    @property
    def arrow(self) -> str:
        return {"ascending": "▲", "descending": "▼"}.get(self.aria_sort, "↕")


def _ordered(item: OrderItem, descending: bool) -> OrderBy:
    if isinstance(item, str):
        item_descending = item.startswith("-")
        expression = F(item.removeprefix("-"))
        return expression.desc() if item_descending != descending else expression.asc()
    if isinstance(item, OrderBy):
        if not descending:
            return item
        reversed_item = item.copy()
        reversed_item.reverse_ordering()  # in place: descending, and NULLs on the other side
        return reversed_item
    return item.desc() if descending else item.asc()


@dataclass
class TableSort:
    """The order one request asks of one table. `default`: the column key (« -date » for descending) the list is
    in when nothing valid is asked; `tie_break`: appended to every order, never reversed, so that pages are stable."""

    request: Any
    columns: Sequence[SortColumn]
    default: str
    tie_break: Sequence[OrderItem] = ("pk",)
    key: str = field(init=False)
    descending: bool = field(init=False)

    def __post_init__(self):
        by_key = {column.key: column for column in self.columns}
        asked = self.request.GET.get(SORT_PARAMETER, "").strip()
        if asked.removeprefix("-") not in by_key:
            asked = self.default
        self.key, self.descending = asked.removeprefix("-"), asked.startswith("-")
        self.column = by_key[self.key]

    @property
    def is_default(self) -> bool:
        return self.value == self.default

    @property
    def value(self) -> str:
        return f"-{self.key}" if self.descending else self.key

    @property
    def query(self) -> str:
        """« tri=-date » to carry the sort into another link (empty when the list is in its default order)."""
        return "" if self.is_default else f"{SORT_PARAMETER}={self.value}"

    def order_by(self, queryset: QuerySet) -> QuerySet:
        ordering = [_ordered(item, self.descending) for item in self.column.order]
        return queryset.order_by(*ordering, *(_ordered(item, False) for item in self.tie_break))

    def sorted(self, rows: Iterable) -> list:
        """Rows already in memory, in the order asked (stable: equal rows keep their order)."""
        assert self.column.value is not None, f"column {self.key!r} sorts in the database"
        return sorted(rows, key=self.column.value, reverse=self.descending)

    @property
    def headers(self) -> dict[str, SortHeader]:
        return {column.key: self._header(column) for column in self.columns}

    def _header(self, column: SortColumn) -> SortHeader:
        current = column.key == self.key
        next_descending = current and not self.descending
        query = self.request.GET.copy()
        query.pop("page", None)
        query[SORT_PARAMETER] = f"-{column.key}" if next_descending else column.key
        return SortHeader(
            label=column.label,
            url=f"?{query.urlencode()}",
            aria_sort=("descending" if self.descending else "ascending") if current else "",
            # The visible header first: a voice user says what they see (WCAG 2.5.3, label in name).
            link_label=f"{column.label}, trier par ordre {'décroissant' if next_descending else 'croissant'}",
        )
