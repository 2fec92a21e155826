"""TwiML for inbound calls, built with the twilio package: greeting, business hours, ringing the team's
online agents one after another, and voicemail with transcription when nobody answers."""

from __future__ import annotations

from django.utils.translation import gettext as _
from twilio.twiml.voice_response import VoiceResponse

from .models import PhoneNumber


def voice_url(step: str) -> str:
    """The voice webhook for one step of the flow (the query string is part of what Twilio signs)."""
    return f"/hooks/twilio/voice/?step={step}"


def not_in_service() -> str:
    response = VoiceResponse()
    response.say(_("Sorry, this number does not take calls."))
    response.hangup()
    return str(response)


def incoming(number: PhoneNumber, *, is_open: bool, agents: list[tuple[int, str]], caller: str, urls: dict[str, str]) -> str:
    """The first answer to a call: greeting, then agents (open) or voicemail (closed / nobody online).
    `agents` are (user id, phone) of the team's online agents, in dialling order."""
    response = VoiceResponse()
    if not is_open:
        response.say(number.closed_message or _("We are closed right now."))
        return _voicemail(response, number, urls)
    if number.greeting:
        response.say(number.greeting)
    if not agents:
        return _voicemail(response, number, urls)
    return _dial(response, number, agents[0], caller, urls=urls)


def after_dial(number: PhoneNumber, *, answered: bool, remaining: list[tuple[int, str]], caller: str, urls: dict[str, str]) -> str:
    """Twilio asks what next after each <Dial>: hang up when answered, else the next agent, else voicemail."""
    response = VoiceResponse()
    if answered:
        response.hangup()
        return str(response)
    if remaining:
        return _dial(response, number, remaining[0], caller, urls=urls)
    return _voicemail(response, number, urls)


def goodbye() -> str:
    response = VoiceResponse()
    response.say(_("Thank you for your message. Goodbye."))
    response.hangup()
    return str(response)


def _dial(response: VoiceResponse, number: PhoneNumber, agent: tuple[int, str], caller: str, *, urls: dict[str, str]) -> str:
    user_id, phone = agent
    dial = response.dial(
        action=urls["dial"] + f"&agent={user_id}",  # who rang, so the answer is credited and the next one found
        method="POST",
        timeout=number.ring_seconds or 20,
        caller_id=caller or number.number,
        answer_on_bridge=True,
    )
    dial.number(phone)
    return str(response)


def _voicemail(response: VoiceResponse, number: PhoneNumber, urls: dict[str, str]) -> str:
    response.say(number.voicemail_prompt or _("Nobody can take your call right now. Please leave a message after the tone."))
    response.record(
        action=urls["recorded"],
        method="POST",
        max_length=180,
        play_beep=True,
        transcribe=True,
        transcribe_callback=urls["transcription"],
        recording_status_callback=urls["recording"],
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
    )
    # Reached only when the caller recorded nothing (Record falls through on silence): tell us, so the call
    # shows as missed even when the number has no call status callback configured.
    response.redirect(urls["nomessage"], method="POST")
    return str(response)


def no_message() -> str:
    response = VoiceResponse()
    response.say(_("We did not receive a message. Goodbye."))
    response.hangup()
    return str(response)
