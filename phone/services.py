"""Writes of the phone app: inbound SMS/WhatsApp (opt-out keywords, media), delivery status, opt-outs."""

from __future__ import annotations

import logging
import mimetypes
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.attachments import store_attachment
from tickets.crypto import blind_indexes
from tickets.inbound import InboundAttachment, InboundMessage
from tickets.models import Channel, Message
from tickets.services import announce_message_updated, ingest, update_delivery

from .models import EarlyStatus, OptOut, PhoneNumber
from .parsing import MediaRef, StatusReport, media_refs, opt_keyword, parse_sms, parse_status, split_address
from .twilio_api import DownloadError, download

log = logging.getLogger(__name__)

EARLY_STATUS_TTL = timedelta(hours=1)
MEDIA_BUDGET_SECONDS = 8  # Twilio gives up on a webhook after 15 s and retries it
_ORDER = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}


def receive_message(params: Mapping[str, str]) -> Message | None:
    """An inbound SMS or WhatsApp message, as Twilio posts it. Idempotent on MessageSid.

    STOP/START keywords switch the sender's opt-out. Media is downloaded with the account's credentials;
    when a download fails the text is stored anyway and the media is fetched again by a task."""
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or ""
    kind, sender = split_address(params.get("From", ""))
    channel = Channel.WHATSAPP if kind == "whatsapp" else Channel.SMS
    if sid:
        existing = Message.objects.filter(channel=channel, external_id=sid).first()
        if existing is not None:
            return existing  # a retry: nothing new, and no second download

    keyword = opt_keyword(params)
    if keyword and sender:
        set_opt_out(kind=kind, address=sender, opted_out=keyword == "stop")

    number = _number(params)
    refs = media_refs(params)
    attachments, failed = _download_media(refs)
    meta: dict = {}
    if keyword:
        meta["opt_out"] = keyword
    if failed:
        meta["media_pending"] = [{"url": r.url, "content_type": r.content_type, "index": r.index} for r in failed]
    inbound = parse_sms(params, team_id=number.team_id if number else None, attachments=attachments, meta=meta)
    if inbound is None:
        return None
    if keyword:
        # An opt-out keyword is a note on an ongoing conversation, never a new ticket of its own.
        inbound = replace(inbound, auto=True)
    if not inbound.text.strip() and not inbound.attachments:
        inbound = _with_placeholder(inbound, failed)
    message = ingest(inbound)
    if message is not None and failed:
        from .tasks import fetch_pending_media

        transaction.on_commit(partial(fetch_pending_media.delay, message.pk))
    return message


def record_status(params: Mapping[str, str]) -> Message | None:
    """A StatusCallback for one of our outbound messages (any order; `update_delivery` never steps back)."""
    report = parse_status(params)
    if report is None or not report.status:
        return None
    message = (
        Message.objects.filter(channel__in=[Channel.SMS, Channel.WHATSAPP, Channel.VOICE], external_id=report.sid).first()
        or Message.objects.filter(twilio_parts__sid=report.sid).first()
    )
    if message is None:
        _remember_early(report)
        return None
    return update_delivery(message=message, status=report.status, error=report.error)


def apply_early_status(message: Message, sid: str) -> None:
    """Called when a part's SID is stored: apply callbacks that raced ahead of it."""
    for early in EarlyStatus.objects.filter(sid=sid):
        update_delivery(message=message, status=early.status, error=early.error)
    EarlyStatus.objects.filter(sid=sid).delete()


def set_opt_out(*, kind: str, address: str, opted_out: bool) -> None:
    if opted_out:
        try:
            with transaction.atomic():
                if not is_opted_out(kind=kind, address=address):
                    OptOut.objects.create(kind=kind, address=address)
        except IntegrityError:
            pass  # a concurrent STOP already recorded it
    else:
        OptOut.objects.filter(kind=kind, address_hash__in=blind_indexes(address)).delete()


def is_opted_out(*, kind: str, address: str) -> bool:
    return OptOut.objects.filter(kind=kind, address_hash__in=blind_indexes(address)).exists()


def attach_pending_media(message_id: int) -> list[MediaRef]:
    """Fetch media whose download failed on arrival. Returns what is still missing."""
    message = Message.objects.get(pk=message_id)
    pending = [MediaRef(**p) for p in message.meta.get("media_pending", [])]
    if not pending:
        return []
    attachments, failed = _download_media(pending)
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        for attachment in attachments:
            store_attachment(message, attachment)
        message.meta["media_pending"] = [{"url": r.url, "content_type": r.content_type, "index": r.index} for r in failed]
        if not failed:
            message.meta.pop("media_pending")
        message.save(update_fields=["meta"])
        if attachments:
            announce_message_updated(message)
    return failed


# ---------------------------------------------------------------- private


def _remember_early(report: StatusReport) -> None:
    EarlyStatus.objects.filter(created_at__lt=timezone.now() - EARLY_STATUS_TTL).delete()
    early, created = EarlyStatus.objects.get_or_create(sid=report.sid, defaults={"status": report.status, "error": report.error})
    if created or early.status == "failed":
        return
    if report.status == "failed" or _ORDER.get(report.status, 0) > _ORDER.get(early.status, 0):
        early.status, early.error = report.status, report.error
        early.save(update_fields=["status", "error"])


def _number(params: Mapping[str, str]) -> PhoneNumber | None:
    _kind, to = split_address(params.get("To", ""))
    return PhoneNumber.objects.filter(number=to).first() if to else None


def _download_media(refs: list[MediaRef]) -> tuple[tuple[InboundAttachment, ...], list[MediaRef]]:
    """Download what fits in the time Twilio waits for our answer; the rest is fetched later by a task."""
    attachments, failed = [], []
    deadline = time.monotonic() + MEDIA_BUDGET_SECONDS
    for ref in refs:
        if time.monotonic() > deadline:
            failed.append(ref)
            continue
        try:
            content, content_type = download(ref.url)
        except DownloadError as exc:
            log.warning("Twilio media download failed (%s)", exc)
            failed.append(ref)
            continue
        content_type = ref.content_type or content_type
        attachments.append(InboundAttachment(filename=_media_name(ref, content_type), content_type=content_type, content=content))
    return tuple(attachments), failed


def _media_name(ref: MediaRef, content_type: str) -> str:
    ext = mimetypes.guess_extension((content_type or "").split(";")[0].strip()) or ""
    return f"media-{ref.index + 1}{ext}"


def _with_placeholder(inbound: InboundMessage, failed: list[MediaRef]) -> InboundMessage:
    note = _("[media could not be downloaded yet]") if failed else _("[empty message]")
    return replace(inbound, text=note)
