"""`/api/v1/mailboxes/` for admins, with `POST mailboxes/<id>/poll/` to poll now (202)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from tickets.permissions import IsAdmin

from .models import Mailbox
from .serializers import MailboxSerializer


class MailboxViewSet(viewsets.ModelViewSet):
    serializer_class = MailboxSerializer
    permission_classes = [IsAdmin]
    queryset = Mailbox.objects.order_by("id")

    @extend_schema(request=None, responses={202: {"type": "object", "properties": {"queued": {"type": "boolean"}}}})
    @action(detail=True, methods=["post"])
    def poll(self, request: Request, pk=None) -> Response:
        from .tasks import poll_mailbox

        mailbox = self.get_object()
        poll_mailbox.delay(mailbox.pk)
        return Response({"queued": True, "mailbox": mailbox.pk}, status=status.HTTP_202_ACCEPTED)
