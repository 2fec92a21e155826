from django.urls import path

from . import views

app_name = "tickets"

urlpatterns = [
    path("agent/", views.queue_page, name="queue"),
    path("agent/bulk/", views.bulk_update, name="bulk"),
    path("agent/tickets/<int:ticket_id>/", views.ticket_page, name="ticket"),
    path("agent/tickets/<int:ticket_id>/reply/", views.ticket_reply, name="reply"),
    path("agent/tickets/<int:ticket_id>/update/", views.ticket_update, name="update"),
    path("agent/tickets/<int:ticket_id>/messages/<int:message_id>/original/", views.full_original, name="original"),
    path("agent/attachments/<int:attachment_id>/", views.download_attachment, name="attachment"),
]
