"""Pagination whose `count` never scans a million rows: it counts at most CAP+1 and says when it stopped."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

COUNT_CAP = 1000


class CappedPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if hasattr(rows, "query"):
            # Count ids only: no joins for select_related, no prefetches, and never past the cap.
            rows = rows.select_related(None).prefetch_related(None).values("pk")
        return rows[: COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


class CappedCountPagination(PageNumberPagination):
    django_paginator_class = CappedPaginator
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_paginated_response(self, data) -> Response:
        paginator = self.page.paginator
        return Response(
            {
                "count": min(paginator.count, COUNT_CAP),
                "count_capped": paginator.capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        result = super().get_paginated_response_schema(schema)
        result["properties"]["count_capped"] = {"type": "boolean"}
        return result
