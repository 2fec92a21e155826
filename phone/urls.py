from django.urls import path

from . import views

app_name = "phone"

urlpatterns = [
    path("hooks/twilio/sms/", views.sms_webhook, name="sms-webhook"),
    path("hooks/twilio/status/", views.status_webhook, name="status-webhook"),
    path("hooks/twilio/voice/", views.voice_webhook, name="voice-webhook"),
    path("hooks/twilio/voice/recording/", views.recording_webhook, name="recording-webhook"),
    path("hooks/twilio/voice/transcription/", views.transcription_webhook, name="transcription-webhook"),
    path("phone/calls/<int:call_id>/recording/", views.recording, name="recording"),
]
