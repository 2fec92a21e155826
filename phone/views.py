"""The edge: Twilio's webhooks (signature first, then parse, then one service call) and the recording link."""

from __future__ import annotations

import contextlib

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from tickets.selectors import can_see_ticket, is_agent
from tickets.services import InvalidMessage

from . import calls, services, voice
from .models import Call
from .twilio_api import DownloadError, download, public_url, signature_valid

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _twiml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type="text/xml")


@csrf_exempt
@require_POST
def sms_webhook(request: HttpRequest) -> HttpResponse:
    if not signature_valid(request):
        return HttpResponseForbidden()
    # A post with nothing storable (no sender, no text) is answered 200: Twilio must not retry it forever.
    with contextlib.suppress(InvalidMessage):
        services.receive_message(request.POST)
    return _twiml(EMPTY_TWIML)


@csrf_exempt
@require_POST
def status_webhook(request: HttpRequest) -> HttpResponse:
    """Delivery status of our outbound messages; also accepts call status callbacks (missed calls)."""
    if not signature_valid(request):
        return HttpResponseForbidden()
    if request.POST.get("MessageSid") or request.POST.get("SmsSid"):
        services.record_status(request.POST)
    elif request.POST.get("CallSid"):
        calls.record_call_status(request.POST)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def voice_webhook(request: HttpRequest) -> HttpResponse:
    """One URL for the whole call flow; `?step=` tells which point Twilio is asking about."""
    if not signature_valid(request):
        return HttpResponseForbidden()
    params = request.POST
    number = calls.number_for(params)
    if number is None or not number.voice:
        return _twiml(voice.not_in_service())
    agents = calls.agent_phones(number)
    caller = params.get("From", "")
    urls = _urls(request)
    step = request.GET.get("step", "")
    if step == "dial":
        rang = _int(request.GET.get("agent"))
        answered = calls.record_dial_result(params, agent_id=rang)
        remaining = [a for a in agents if a[0] > rang]  # agents are ordered by id: the ones not tried yet
        return _twiml(voice.after_dial(number, answered=answered, remaining=remaining, caller=caller, urls=urls))
    if step == "recorded":
        calls.record_recording(params)
        return _twiml(voice.goodbye())
    if step == "nomessage":
        calls.record_call_status({**params.dict(), "CallStatus": "completed"})
        return _twiml(voice.no_message())
    calls.start_call(params, number)
    return _twiml(voice.incoming(number, is_open=number.is_open(), agents=agents, caller=caller, urls=urls))


@csrf_exempt
@require_POST
def recording_webhook(request: HttpRequest) -> HttpResponse:
    if not signature_valid(request):
        return HttpResponseForbidden()
    calls.record_recording(request.POST)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def transcription_webhook(request: HttpRequest) -> HttpResponse:
    if not signature_valid(request):
        return HttpResponseForbidden()
    calls.record_transcription(request.POST)
    return HttpResponse(status=204)


@login_required
@require_GET
def recording(request: HttpRequest, call_id: int) -> HttpResponse:
    """The voicemail audio, fetched from Twilio with the account's credentials, for agents who may see the
    call's ticket (404 otherwise)."""
    call = Call.objects.filter(pk=call_id).select_related("message").first()
    if (
        call is None
        or not call.recording_url
        or call.message is None
        or not is_agent(request.user)
        or not can_see_ticket(agent=request.user, ticket_id=call.message.ticket_id)
    ):
        raise Http404
    try:
        audio, _type = download(call.recording_url + ".mp3")
    except DownloadError as exc:
        return HttpResponse(f"The recording is not available right now ({exc}).", status=502, content_type="text/plain")
    response = HttpResponse(audio, content_type="audio/mpeg")
    response["Content-Disposition"] = f'inline; filename="{call.call_sid}.mp3"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _urls(request: HttpRequest) -> dict[str, str]:
    return {
        "dial": public_url(voice.voice_url("dial"), request),
        "recorded": public_url(voice.voice_url("recorded"), request),
        "nomessage": public_url(voice.voice_url("nomessage"), request),
        "recording": public_url("/hooks/twilio/voice/recording/", request),
        "transcription": public_url("/hooks/twilio/voice/transcription/", request),
    }


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0
