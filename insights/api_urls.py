from django.urls import path

from . import api

urlpatterns = [
    path("contacts/<int:contact_id>/attributes/", api.contact_attributes, name="contact-attributes"),
    path("contacts/<int:contact_id>/notes/", api.contact_notes, name="contact-notes"),
    path("contacts/<int:contact_id>/merge/", api.contact_merge, name="contact-merge"),
    path("contacts/<int:contact_id>/insights/", api.contact_insights, name="contact-insights"),
    path("contact-search/", api.contact_search, name="contact-search"),
]
