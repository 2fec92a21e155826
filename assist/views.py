"""Assist pages and form actions in the agent workspace: prediction accept, flow list, builder, reports."""

from __future__ import annotations

import json

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tickets import selectors
from tickets.views import agent_required

from . import classifier
from .flows import services as flow_services
from .flows.report import flow_report
from .indexing import optional_model
from .models import Flow, Prediction

MAX_BODY = 256 * 1024


@require_POST
@agent_required
def accept_prediction(request: HttpRequest, prediction_id: int) -> HttpResponse:
    prediction = Prediction.objects.select_related("ticket").filter(pk=prediction_id).first()
    if prediction is None or not selectors.can_see_ticket(agent=request.user, ticket_id=prediction.ticket_id):
        raise Http404
    classifier.accept(prediction=prediction, actor=request.user)
    return HttpResponseRedirect(reverse("tickets:ticket", args=[prediction.ticket_id]))


@require_http_methods(["GET", "POST"])
@agent_required
def flows_page(request: HttpRequest) -> HttpResponse:
    """Every agent sees the flows and their figures; admins create and edit them."""
    can_edit = selectors.sees_everything(request.user)
    if request.method == "POST":
        if not can_edit:
            raise Http404
        name = request.POST.get("name", "").strip()[:120]
        if not name:
            flash.error(request, _("Give the flow a name."))
            return HttpResponseRedirect(reverse("assist:flows"))
        widget_id = _int(request.POST.get("widget"))
        flow = Flow.objects.create(name=name, widget_id=widget_id, created_by=request.user, active=False)
        team_id = _widget_team(widget_id)
        flow_services.save_flow(flow=flow, definition=flow_services.default_definition(team_id), actor=request.user)
        return HttpResponseRedirect(reverse("assist:flow-builder", args=[flow.pk]))
    flows = list(Flow.objects.order_by("name", "id"))
    widgets = _widgets()
    rows = []
    for flow in flows:
        report = flow_report(flow)
        version = flow.live_version()
        rows.append({"flow": flow, "version": version.number if version else None, "widget": widgets.get(flow.widget_id, flow.widget_id), "report": report})
    return render(request, "assist/flows.html", {"rows": rows, "widgets": widgets, "can_edit": can_edit})


@agent_required
def flow_builder(request: HttpRequest, flow_id: int) -> HttpResponse:
    if not selectors.sees_everything(request.user):
        raise Http404
    flow = get_object_or_404(Flow, pk=flow_id)
    version = flow.live_version()
    from tickets.models import Team

    data = {
        "flow": {"id": flow.pk, "name": flow.name, "widget": flow.widget_id, "active": flow.active, "version": version.number if version else 0},
        "definition": version.definition if version else flow_services.default_definition(),
        "teams": [{"id": t.pk, "name": t.name} for t in Team.objects.order_by("name")],
        "widgets": [{"id": k, "name": v} for k, v in _widgets().items()],
        "save_url": reverse("assist:flow-save", args=[flow.pk]),
        "labels": _builder_labels(),
    }
    return render(request, "assist/flow_builder.html", {"flow": flow, "builder": data})


@require_POST
@agent_required
def flow_save(request: HttpRequest, flow_id: int) -> JsonResponse:
    if not selectors.sees_everything(request.user):
        raise Http404
    flow = get_object_or_404(Flow, pk=flow_id)
    if len(request.body) > MAX_BODY:
        return JsonResponse({"errors": [_("The flow is too large.")]}, status=413)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"errors": [_("The request is not valid JSON.")]}, status=400)
    if not isinstance(body, dict):
        return JsonResponse({"errors": [_("The request is not valid JSON.")]}, status=400)
    name = str(body.get("name") or flow.name).strip()[:120] or flow.name
    try:
        version = flow_services.save_flow(
            flow=flow, definition=body.get("definition"), actor=request.user, name=name,
            widget_id=_int(body.get("widget")), active=bool(body.get("active")),
        )  # fmt: skip
    except flow_services.InvalidFlow as exc:
        return JsonResponse({"errors": exc.errors}, status=400)
    if body.get("widget") in (None, "") and flow.widget_id is not None:
        Flow.objects.filter(pk=flow.pk).update(widget_id=None)
    return JsonResponse({"version": version.number, "message": _("Saved as version %(n)d.") % {"n": version.number}})


@agent_required
def flow_report_page(request: HttpRequest, flow_id: int) -> HttpResponse:
    flow = get_object_or_404(Flow, pk=flow_id)
    report = flow_report(flow)
    return render(request, "assist/flow_report.html", {"flow": flow, "report": report, "can_edit": selectors.sees_everything(request.user)})


def _widgets() -> dict[int, str]:
    Widget = optional_model("chat.Widget")
    if Widget is None:
        return {}
    return {w.pk: f"{w.name} ({w.public_key})" for w in Widget.objects.order_by("name")}


def _widget_team(widget_id: int | None) -> int | None:
    Widget = optional_model("chat.Widget")
    if Widget is None or widget_id is None:
        return None
    return Widget.objects.filter(pk=widget_id).values_list("team_id", flat=True).first()


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _builder_labels() -> dict:
    types = {
        "message": _("Send a message"), "buttons": _("Offer buttons"), "ask": _("Ask for a field"),
        "kb": _("Search the knowledge base"), "branch": _("Branch"), "handoff": _("Hand off to a team"), "end": _("End (resolved)"),
    }  # fmt: skip
    validators = {"text": _("Any text"), "email": _("Email address"), "order": _("Order number"), "phone": _("Phone number"), "regex": _("Regular expression")}
    branch_on = {"answer": _("An earlier answer"), "attribute": _("A contact attribute"), "hours": _("Business hours")}
    return {
        "types": types, "validators": validators, "branch_on": branch_on,
        "id": _("Step id"), "text": _("Text the visitor sees"), "next": _("Next step"), "none": _("(end of flow)"),
        "add": _("Add step"), "remove": _("Remove"), "start": _("Starts here"), "make_start": _("Start here"),
        "options": _("Buttons"), "label": _("Label"), "add_option": _("Add button"), "variable": _("Save the answer as"),
        "field": _("Field name"), "validate": _("Validation"), "pattern": _("Pattern"), "error": _("Error message"),
        "limit": _("Articles to offer"), "resolved": _("When it helped"), "unresolved": _("When it did not help"),
        "on": _("Branch on"), "attribute": _("Attribute"), "cases": _("Cases"), "value": _("Value"),
        "add_case": _("Add case"), "default": _("Otherwise"), "open": _("When open"), "closed": _("When closed"),
        "team": _("Team"), "widget_team": _("(the widget's team)"), "saving": _("Saving…"), "failed": _("Could not save."),
        "days": _("Open on"), "from": _("From"), "to": _("Until"), "timezone": _("Time zone"),
        "weekdays": [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")],
        "hours_help": _("Tick no day to use the widget's business hours."),
    }  # fmt: skip
