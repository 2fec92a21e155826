"""Inbound calls: one Call row per CallSid, updated by each Twilio callback in whatever order they arrive,
and one ticket message (channel `voice`) rebuilt from it. `Message.meta["call"]` holds the details."""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.inbound import InboundMessage, ThreadHints
from tickets.models import AgentProfile, Availability, Message
from tickets.representations import agent_name
from tickets.services import announce_message_updated, ingest, set_tags

from .models import Call, CallOutcome, PhoneNumber
from .parsing import split_address

FINAL_CALL_STATUSES = {"completed", "busy", "no-answer", "failed", "canceled"}
MISSED_TAG = "missed-call"


def number_for(params: Mapping[str, str]) -> PhoneNumber | None:
    _kind, to = split_address(params.get("To") or params.get("Called") or "")
    return PhoneNumber.objects.select_related("team").filter(number=to).first() if to else None


def agent_phones(number: PhoneNumber) -> list[tuple[int, str]]:
    """(user id, phone) of the team's online agents who take calls, in a stable order."""
    if number.team_id is None:
        return []
    return list(
        AgentProfile.objects.filter(
            user__helpdesk_teams=number.team_id, user__is_active=True, availability=Availability.ONLINE
        )
        .exclude(phone="")
        .order_by("user_id")
        .values_list("user_id", "phone")
    )


def start_call(params: Mapping[str, str], number: PhoneNumber | None) -> Call | None:
    """Remember the call (idempotent on CallSid: Twilio may retry the webhook)."""
    sid = (params.get("CallSid") or "").strip()
    if not sid:
        return None
    _kind, caller = split_address(params.get("From") or params.get("Caller") or "")
    try:
        with transaction.atomic():
            call, _created = Call.objects.get_or_create(
                call_sid=sid, defaults={"phone_number": number, "caller": caller[:64]}
            )
    except IntegrityError:
        call = Call.objects.get(call_sid=sid)
    return call


def record_dial_result(params: Mapping[str, str], *, agent_id: int) -> bool:
    """The result of ringing one agent. Returns True when the agent answered."""
    answered = (params.get("DialCallStatus") or "").lower() == "completed"
    if not answered:
        return False
    agent_id = agent_id if get_user_model().objects.filter(pk=agent_id).exists() else None

    def change(call: Call) -> None:
        call.outcome = CallOutcome.ANSWERED
        call.answered_by_id = agent_id
        call.duration = _int(params.get("DialCallDuration")) or call.duration

    _update(params, change)
    return True


def record_recording(params: Mapping[str, str]) -> Call | None:
    """RecordingStatusCallback, or the <Record> action (both carry the recording's URL and duration)."""
    url = (params.get("RecordingUrl") or "").strip()
    seconds = _int(params.get("RecordingDuration"))
    status = (params.get("RecordingStatus") or "completed").lower()
    if not url or status not in ("completed", "") or seconds == 0:
        return _update(params, _mark_missed)

    def change(call: Call) -> None:
        call.recording_url = url[:500]
        call.recording_sid = (params.get("RecordingSid") or call.recording_sid)[:64]
        call.recording_duration = seconds if seconds is not None else call.recording_duration
        if call.outcome != CallOutcome.ANSWERED:
            call.outcome = CallOutcome.VOICEMAIL

    return _update(params, change)


def record_transcription(params: Mapping[str, str]) -> Call | None:
    """TranscriptionCallback: may arrive before or after the recording callback."""

    def change(call: Call) -> None:
        call.transcription_status = (params.get("TranscriptionStatus") or "")[:20]
        if call.transcription_status == "completed":
            call.transcription_text = (params.get("TranscriptionText") or "")[:10_000]
        if params.get("RecordingUrl") and not call.recording_url:
            call.recording_url = params["RecordingUrl"][:500]
            call.recording_sid = (params.get("RecordingSid") or "")[:64]
        if call.recording_url and call.outcome != CallOutcome.ANSWERED:
            call.outcome = CallOutcome.VOICEMAIL

    return _update(params, change)


def record_call_status(params: Mapping[str, str]) -> Call | None:
    """The call's status callback: a call that ended unanswered and without voicemail is a missed call."""
    status = (params.get("CallStatus") or "").lower()
    if status not in FINAL_CALL_STATUSES:
        return None

    def change(call: Call) -> None:
        seconds = _int(params.get("CallDuration"))
        if seconds is not None and call.outcome != CallOutcome.ANSWERED:
            call.duration = seconds  # an answered call keeps the agent's talk time (DialCallDuration)
        _mark_missed(call)

    return _update(params, change)


def call_summary(call: Call) -> str:
    """What the agent reads in the ticket (the first line becomes a new ticket's subject)."""
    caller = call.caller or _("an unknown number")
    if call.outcome == CallOutcome.ANSWERED:
        who = agent_name(call.answered_by) if call.answered_by_id else _("an agent")
        return _("Call from %(caller)s, answered by %(agent)s (%(duration)s).") % {
            "caller": caller, "agent": who, "duration": _duration(call.duration),
        }  # fmt: skip
    first = _("Missed call from %(caller)s") % {"caller": caller}
    if call.outcome != CallOutcome.VOICEMAIL:
        return first + "."
    lines = [first + " " + _("— voicemail (%(duration)s)") % {"duration": _duration(call.recording_duration)}]
    if call.transcription_text:
        lines.append(_("Transcription: %(text)s") % {"text": call.transcription_text})
    elif call.transcription_status == "failed":
        lines.append(_("The voicemail could not be transcribed."))
    else:
        lines.append(_("Transcription pending."))
    return "\n".join(lines)


def call_details(call: Call) -> dict:
    """`Message.meta["call"]`: what the agent UI shows next to the message."""
    return {
        "id": call.pk,
        "sid": call.call_sid,
        "from": call.caller,
        "to": call.phone_number.number if call.phone_number_id else "",
        "outcome": call.outcome,
        "duration": call.duration,
        "answered_by": agent_name(call.answered_by) if call.answered_by_id else "",
        "recording_url": reverse("phone:recording", args=[call.pk]) if call.recording_url else "",
        "recording_duration": call.recording_duration,
        "transcription": call.transcription_text,
        "transcription_status": call.transcription_status,
    }


# ---------------------------------------------------------------- private


def _update(params: Mapping[str, str], change) -> Call | None:
    sid = (params.get("CallSid") or "").strip()
    if not sid:
        return None
    start_call(params, None)  # a callback may be the first we hear of a call
    with transaction.atomic():
        call = Call.objects.select_for_update().get(call_sid=sid)
        if call.phone_number_id is None:
            call.phone_number = number_for(params)
        change(call)
        call.updated_at = timezone.now()
        call.save()
        call = Call.objects.select_related("phone_number", "answered_by").get(pk=call.pk)
        if call.outcome != CallOutcome.RINGING:
            _sync_message(call)
    return call


def _mark_missed(call: Call) -> None:
    if call.outcome == CallOutcome.RINGING:
        call.outcome = CallOutcome.MISSED


def _sync_message(call: Call) -> Message:
    """Create the call's message once (ingest is idempotent on the CallSid), then keep it up to date."""
    text = call_summary(call)
    details = call_details(call)
    if call.message_id is None:
        message = ingest(
            InboundMessage(
                channel="voice",
                external_id=call.call_sid,
                sender_kind="phone",
                sender_address=call.caller or "unknown",
                text=text,
                thread=ThreadHints(continue_latest=True),
                team_id=call.phone_number.team_id if call.phone_number_id else None,
                received_at=call.created_at,
                meta={"call": details},
            )
        )
        if message is not None:
            Call.objects.filter(pk=call.pk).update(message=message)
            if call.outcome in (CallOutcome.MISSED, CallOutcome.VOICEMAIL):
                # Agents find unanswered calls with the queue's tag filter (`?tag=missed-call`).
                set_tags(ticket=message.ticket, actor=None, add=[MISSED_TAG])
        return message
    message = Message.objects.select_for_update().get(pk=call.message_id)
    if message.text != text or message.meta.get("call") != details:
        message.text = text
        message.meta = {**message.meta, "call": details}
        message.save(update_fields=["text", "meta"])
        announce_message_updated(message)
    return message


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return _("duration unknown")
    minutes, rest = divmod(int(seconds), 60)
    if minutes:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": rest}
    return _("%(s)d s") % {"s": rest}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None

