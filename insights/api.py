"""REST endpoints about contacts (under /api/v1/): attributes, notes, merge, insights, directory search.
A contact the caller sees no ticket of is a 404, as for tickets."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from tickets.models import Contact
from tickets.pagination import CappedCountPagination
from tickets.serializers import ContactSerializer

from . import selectors, services


class NoteSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    text = serializers.CharField(max_length=services.MAX_NOTE)
    client_id = serializers.CharField(max_length=64, required=False, allow_blank=True, write_only=True)
    author = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)

    def get_author(self, note) -> dict | None:
        if not note.author_id:
            return None
        return {"id": note.author_id, "name": note.author.get_full_name() or note.author.get_username()}


def _contact(request: Request, contact_id: int) -> Contact:
    try:
        return selectors.contact_for_agent(agent=request.user, contact_id=contact_id)
    except Contact.DoesNotExist:
        raise Http404 from None


@extend_schema(
    request={"application/json": {"type": "object", "additionalProperties": True}},
    responses={200: {"type": "object", "properties": {"id": {"type": "integer"}, "attributes": {"type": "object"}}}},
    description="Merge keys into the contact's custom attributes; a null value removes a key.",
)
@api_view(["GET", "PATCH"])
def contact_attributes(request: Request, contact_id: int) -> Response:
    contact = _contact(request, contact_id)
    if request.method == "PATCH":
        try:
            contact = services.update_attributes(contact=contact, changes=request.data, actor=request.user)
        except services.InvalidAttributes as exc:
            raise ValidationError({"attributes": [str(exc)]}) from exc
    return Response({"id": contact.pk, "attributes": contact.attributes})


@extend_schema(request=NoteSerializer, responses=NoteSerializer(many=True))
@api_view(["GET", "POST"])
def contact_notes(request: Request, contact_id: int) -> Response:
    contact = _contact(request, contact_id)
    if request.method == "POST":
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            note = services.add_note(contact=contact, author=request.user, text=data.validated_data["text"], client_id=data.validated_data.get("client_id", ""))
        except ValueError as exc:
            raise ValidationError({"text": [str(exc)]}) from exc
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)
    notes = contact.notes.select_related("author")[:200]
    return Response(NoteSerializer(notes, many=True).data)


@extend_schema(
    request={"application/json": {"type": "object", "properties": {"into": {"type": "integer"}}}},
    responses=ContactSerializer,
    description="This contact is the same person as `into`: its tickets, identities and notes move there.",
)
@api_view(["POST"])
def contact_merge(request: Request, contact_id: int) -> Response:
    into = request.data.get("into")
    if not isinstance(into, int) and not (isinstance(into, str) and into.isdigit()):
        raise ValidationError({"into": ["The id of the contact to keep."]})
    target = _contact(request, int(into))
    source = Contact.objects.filter(pk=contact_id).first()
    if source is not None and source.merged_into_id and services.final_contact(source).pk == target.pk:
        return Response(ContactSerializer(target).data)  # a retried merge: already done
    source = _contact(request, contact_id)
    try:
        target = services.merge_contacts(source=source, target=target, actor=request.user)
    except services.MergeError as exc:
        raise ValidationError({"into": [str(exc)]}) from exc
    return Response(ContactSerializer(Contact.objects.prefetch_related("identities").get(pk=target.pk)).data)


@extend_schema(responses={200: {"type": "object"}})
@api_view(["GET"])
def contact_insights(request: Request, contact_id: int) -> Response:
    contact = _contact(request, contact_id)
    info = selectors.contact_insights(agent=request.user, contact=contact)
    return Response(
        {
            "id": contact.pk,
            "name": contact.name,
            "identities": [{"channel": i.kind, "address": i.address} for i in info.identities],
            "attributes": info.attributes,
            "tags": info.tags,
            "ticket_count": info.ticket_count,
            "time_with_support_seconds": int(info.time_with_support.total_seconds()),
            "csat_average": info.csat_average,
            "tickets": [
                {
                    "id": row["ticket"].pk, "subject": row["ticket"].subject, "channel": row["ticket"].channel,
                    "status": row["ticket"].status, "created_at": row["ticket"].created_at, "resolved_at": row["ticket"].resolved_at,
                    "csat": row["csat"],
                }
                for row in info.tickets
            ],  # fmt: skip
            "notes": NoteSerializer(info.notes, many=True).data,
        }
    )


@extend_schema(parameters=[OpenApiParameter("q", str, description="Name or email word prefix, or an exact email/phone.")], responses=ContactSerializer(many=True))
@api_view(["GET"])
def contact_search(request: Request) -> Response:
    qs = selectors.search_contacts(agent=request.user, q=request.query_params.get("q", "")).prefetch_related("identities")
    paginator = CappedCountPagination()
    page = paginator.paginate_queryset(qs, request)
    return paginator.get_paginated_response(ContactSerializer(page, many=True).data)
