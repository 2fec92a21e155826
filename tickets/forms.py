from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .login_limit import client_ip, is_locked, record_failure, record_success


class RateLimitedAuthenticationForm(AuthenticationForm):
    """The login form, refusing further attempts after too many failures (CONTRACT: abuse limits)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _("Too many failed login attempts. Please wait 15 minutes and try again."),
    }

    def clean(self):
        username = self.data.get("username", "")[:150]
        ip = client_ip(self.request) if self.request else ""
        if is_locked(username, ip):
            raise forms.ValidationError(self.error_messages["locked"], code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            record_failure(username, ip)
            raise
        record_success(username)
        return cleaned


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Reply"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 4}))
    internal = forms.BooleanField(label=_("Internal note"), required=False)
    client_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
