from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import MessengerPage


class MessengerPageForm(forms.ModelForm):
    # The token is write-only: the form never shows it; leaving it empty keeps the stored one.
    access_token = forms.CharField(label=_("page access token"), required=False, widget=forms.PasswordInput(render_value=False))

    class Meta:
        model = MessengerPage
        fields = ["page_id", "name", "team", "access_token"]

    def clean_access_token(self) -> str:
        value = self.cleaned_data.get("access_token", "").strip()
        return value or (self.instance.access_token if self.instance.pk else "")


@admin.register(MessengerPage)
class MessengerPageAdmin(admin.ModelAdmin):
    form = MessengerPageForm
    list_display = ["name", "page_id", "team"]
    list_select_related = ["team"]
    search_fields = ["name", "page_id"]
