"""Writes of the Messenger app: customer messages and postbacks into the ticket stream, receipts onto our
outbound messages."""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import replace
from functools import partial
from urllib.parse import urlsplit

from django.db import transaction
from django.utils.translation import gettext as _

from tickets.attachments import store_attachment
from tickets.crypto import blind_indexes
from tickets.inbound import InboundAttachment
from tickets.models import Channel, ContactIdentity, DeliveryStatus, Direction, IdentityKind, Message
from tickets.services import InvalidMessage, announce_message_updated, ingest, update_delivery

from . import graph
from .models import MessengerPage
from .parsing import AttachmentRef, IncomingMessage, Receipt

log = logging.getLogger(__name__)


def handle_events(events: list[IncomingMessage | Receipt]) -> None:
    pages = {p.page_id: p for p in MessengerPage.objects.filter(page_id__in={e.page_id for e in events})}
    for event in events:
        page = pages.get(event.page_id)
        if page is None:
            log.warning("Messenger event for a page that is not configured")
            continue
        if isinstance(event, IncomingMessage):
            try:
                receive_message(event, page=page)
            except InvalidMessage as exc:
                # Nothing storable in it (no text, no attachment we know): skip it, keep the rest of the
                # batch; failing the POST would make Meta redeliver the same event forever.
                log.warning("Messenger event skipped: %s", exc)
        else:
            record_receipt(event)


def receive_message(event: IncomingMessage, *, page: MessengerPage) -> Message | None:
    """Idempotent on the mid: a redelivered event returns the stored message without downloading again."""
    existing = Message.objects.filter(channel=Channel.MESSENGER, external_id=event.mid).first()
    if existing is not None:
        return existing
    name = "" if _known(event.sender_id) else graph.profile_name(event.sender_id, page.access_token)
    files, failed = _download(event)
    inbound = event.inbound(team_id=page.team_id, sender_name=name, files=files)
    if failed:
        meta = {**inbound.meta, "attachments_failed": [{"type": r.type, "url": r.url} for r in failed]}
        inbound = replace(inbound, text=(inbound.text + "\n" + _notes(failed)).strip(), meta=meta)
    message = ingest(inbound)
    if message is not None and failed:
        from .tasks import fetch_failed_attachments

        transaction.on_commit(partial(fetch_failed_attachments.delay, message.pk))
    return message


def attach_failed_attachments(message_id: int) -> list[AttachmentRef]:
    """Download attachments that failed on arrival (Meta's CDN URLs stay valid for a while). Returns what
    is still missing; the note in the text shrinks to match."""
    message = Message.objects.get(pk=message_id)
    refs = [AttachmentRef(type=r["type"], url=r["url"]) for r in message.meta.get("attachments_failed", [])]
    if not refs:
        return []
    files, failed = _download_refs(refs)
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        for file in files:
            store_attachment(message, file)
        text = message.text.replace(_notes(refs), "").strip()
        message.text = (text + "\n" + _notes(failed)).strip() if failed else text or _("[attachment]")
        message.meta["attachments_failed"] = [{"type": r.type, "url": r.url} for r in failed]
        if not failed:
            message.meta.pop("attachments_failed")
        message.save(update_fields=["text", "meta"])
        if files:
            announce_message_updated(message)
    return failed


def record_receipt(receipt: Receipt) -> int:
    """Delivery receipts name our mids; read receipts mark everything sent before the watermark. Returns
    the number of messages moved forward (`update_delivery` never steps back)."""
    outbound = Message.objects.filter(channel=Channel.MESSENGER, direction=Direction.OUTBOUND).exclude(
        delivery_status__in=[DeliveryStatus.FAILED, DeliveryStatus.READ]
    )
    if receipt.kind == "delivered" and receipt.mids:
        targets = outbound.filter(external_id__in=receipt.mids)
    else:
        identities = ContactIdentity.objects.filter(
            kind=IdentityKind.MESSENGER, address_hash__in=blind_indexes(receipt.sender_id)
        ).values("contact_id")
        targets = outbound.filter(ticket__contact__in=identities, created_at__lte=receipt.watermark)
    status = DeliveryStatus.READ if receipt.kind == "read" else DeliveryStatus.DELIVERED
    count = 0
    for message in targets[:200]:
        update_delivery(message=message, status=status)
        count += 1
    return count


def _known(psid: str) -> bool:
    return ContactIdentity.objects.filter(kind=IdentityKind.MESSENGER, address_hash__in=blind_indexes(psid)).exists()


def _notes(refs: list[AttachmentRef]) -> str:
    return "\n".join(_("[%(type)s attachment could not be downloaded]") % {"type": ref.type} for ref in refs)


def _download(event: IncomingMessage) -> tuple[tuple[InboundAttachment, ...], list[AttachmentRef]]:
    return _download_refs(list(event.attachments))


def _download_refs(refs: list[AttachmentRef]) -> tuple[tuple[InboundAttachment, ...], list[AttachmentRef]]:
    files, failed = [], []
    for index, ref in enumerate(refs):
        try:
            content, content_type = graph.download(ref.url)
        except graph.DownloadError as exc:
            log.warning("Messenger attachment download failed (%s)", exc)
            failed.append(ref)
            continue
        files.append(InboundAttachment(filename=_filename(ref, index, content_type), content_type=content_type, content=content))
    return tuple(files), failed


def _filename(ref, index: int, content_type: str) -> str:
    name = urlsplit(ref.url).path.rsplit("/", 1)[-1]
    if name and "." in name:
        return name[-120:]
    ext = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
    return f"{ref.type}-{index + 1}{ext}"
