from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("agent/contacts/", views.directory, name="directory"),
    path("agent/contacts/<int:contact_id>/", views.contact_page, name="contact"),
    path("agent/contacts/<int:contact_id>/notes/", views.add_note, name="add-note"),
    path("agent/contacts/<int:contact_id>/attributes/", views.set_attribute, name="set-attribute"),
    path("agent/contacts/<int:contact_id>/merge/", views.merge, name="merge"),
]
