"""Demo data for `manage.py seed_demo`: the Support team's Twilio number, agents' phones, an SMS, a WhatsApp
message and a voicemail, all through the same code paths as Twilio's webhooks (no network)."""

from __future__ import annotations

from tickets.models import AgentProfile, Team

from . import calls, services
from .models import PhoneNumber

DESK = "+12025550143"


def seed(stdout) -> None:
    team = Team.objects.filter(name="Support").first()
    number, _created = PhoneNumber.objects.get_or_create(
        number=DESK,
        defaults={
            "team": team, "sms": True, "whatsapp": True, "voice": True,
            "greeting": "Thank you for calling Example Support. Connecting you to an agent.",
            "closed_message": "Example Support is closed. We are open Monday to Friday, 8 to 18.",
            "voicemail_prompt": "Please leave your name, number and question after the tone.",
        },
    )  # fmt: skip
    for username, phone in (("alice", "+12025550101"), ("bob", "+12025550102")):
        AgentProfile.objects.filter(user__username=username, phone="").update(phone=phone)

    services.receive_message({
        "MessageSid": "SMdemo0000000000000000000000000001", "From": "+358401234567", "To": DESK, "NumMedia": "0",
        "Body": "Hei! Tilaukseni 2025-117 ei ole vieläkään saapunut. Voisitteko tarkistaa?",
    })  # fmt: skip
    services.receive_message({
        "MessageSid": "SMdemo0000000000000000000000000002", "From": "whatsapp:+34600123456", "To": f"whatsapp:{DESK}",
        "ProfileName": "Carlos Ruiz", "NumMedia": "0", "Body": "Hola, la caja del pedido 88231 llegó rota. ¿Qué hago?",
    })  # fmt: skip
    call = {"CallSid": "CAdemo00000000000000000000000001", "From": "+14155550163", "To": DESK, "CallStatus": "ringing"}
    calls.start_call(call, number)
    calls.record_recording({**call, "RecordingSid": "REdemo0000000000000000000000001", "RecordingDuration": "27",
                            "RecordingStatus": "completed",
                            "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/ACdemo/Recordings/REdemo0000000000000000000000001"})  # fmt: skip
    calls.record_transcription({**call, "TranscriptionStatus": "completed",
                                "TranscriptionText": "Hi, this is Tom calling about the technician visit on Thursday. Please call me back."})  # fmt: skip
    missed = {"CallSid": "CAdemo00000000000000000000000002", "From": "+14155550177", "To": DESK}
    calls.start_call(missed, number)
    calls.record_call_status({**missed, "CallStatus": "no-answer", "CallDuration": "0"})
    stdout.write(f"Phone: number {DESK} (SMS, WhatsApp, voice) for Support, with an SMS, a WhatsApp message, a voicemail and a missed call.")
