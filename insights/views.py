"""Agent pages: the contact directory, one contact's profile, and the form posts behind them (notes,
attributes, merge). Thin: selectors read, services write; anything the agent may not see is a 404."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tickets.models import Contact
from tickets.pagination import COUNT_CAP, CappedPaginator
from tickets.views import agent_required

from . import selectors, services

PAGE_SIZE = 25


@agent_required
def directory(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    contacts = selectors.search_contacts(agent=request.user, q=q).prefetch_related("identities")
    paginator = CappedPaginator(contacts, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "insights/directory.html",
        {"q": q, "page": page, "contacts": list(page.object_list), "count": min(paginator.count, COUNT_CAP), "capped": paginator.capped},
    )


@agent_required
def contact_page(request: HttpRequest, contact_id: int) -> HttpResponse:
    merged = Contact.objects.filter(pk=contact_id, merged_into__isnull=False).first()
    if merged is not None:
        kept = services.final_contact(merged)
        if selectors.visible_contacts(agent=request.user).filter(pk=kept.pk).exists():
            return redirect("insights:contact", contact_id=kept.pk)
    contact = _contact(request, contact_id)
    merge_q = request.GET.get("merge_q", "").strip()[:200]
    candidates = []
    if merge_q:
        candidates = list(selectors.search_contacts(agent=request.user, q=merge_q).exclude(pk=contact.pk).prefetch_related("identities")[:10])
    return render(
        request,
        "insights/contact.html",
        {"info": selectors.contact_insights(agent=request.user, contact=contact), "contact": contact, "merge_q": merge_q, "candidates": candidates},
    )


@agent_required
@require_POST
def add_note(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _contact(request, contact_id)
    try:
        services.add_note(contact=contact, author=request.user, text=request.POST.get("text", ""), client_id=request.POST.get("client_id", ""))
    except ValueError as exc:
        flash.error(request, str(exc))
    return _back(request, contact)


@agent_required
@require_POST
def set_attribute(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _contact(request, contact_id)
    key = request.POST.get("key", "").strip()
    value = request.POST.get("value", "")
    changes = {key: None if request.POST.get("remove") else value.strip()}
    try:
        services.update_attributes(contact=contact, changes=changes, actor=request.user)
    except services.InvalidAttributes as exc:
        flash.error(request, str(exc))
    return _back(request, contact)


@agent_required
@require_POST
def merge(request: HttpRequest, contact_id: int) -> HttpResponse:
    source = _contact(request, contact_id)
    into = request.POST.get("into", "")
    if not into.isdigit():
        raise Http404
    target = _contact(request, int(into))
    try:
        target = services.merge_contacts(source=source, target=target, actor=request.user)
    except services.MergeError as exc:
        flash.error(request, str(exc))
        return redirect("insights:contact", contact_id=source.pk)
    flash.success(request, _("Contacts merged: all tickets and identities are now on this contact."))
    return redirect("insights:contact", contact_id=target.pk)


def _contact(request: HttpRequest, contact_id: int) -> Contact:
    try:
        return selectors.contact_for_agent(agent=request.user, contact_id=contact_id)
    except Contact.DoesNotExist:
        raise Http404 from None


def _back(request: HttpRequest, contact: Contact) -> HttpResponse:
    target = request.POST.get("next", "")
    if target.startswith("/agent/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("insights:contact", contact_id=contact.pk)
