"""Assist: the suggestion index, learned routing, summaries and chat flows.

Other apps' rows (canned responses, articles, widgets, chat sessions) are referenced by plain ids, not
foreign keys: assist reads them lazily and must work whether or not those apps have landed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    CANNED = "canned", _("Canned response")
    ARTICLE = "article", _("Knowledge-base article")
    REPLY = "reply", _("Past reply")


class IndexDoc(models.Model):
    """One retrievable answer. Rows are upserted one by one as their sources change (the incremental index);
    the BM25 matrix over them is rebuilt per process when `IndexState.generation` moves."""

    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    ref = models.PositiveBigIntegerField(_("reference id"))
    team_id = models.PositiveBigIntegerField(_("team id"), null=True, blank=True)
    owner_id = models.PositiveBigIntegerField(_("owner id"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8)
    title = models.CharField(_("title"), max_length=255)
    # What a customer question is matched against (a past ticket's question, an article's body...).
    match_text = models.TextField(_("matched text"))
    # What the agent gets in the composer.
    answer = models.TextField(_("answer"))
    url = models.CharField(_("link"), max_length=500, blank=True)
    tokens = models.TextField(_("stemmed tokens"), editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "ref"], name="assist_doc_unique_source_ref")]
        verbose_name = _("indexed answer")
        verbose_name_plural = _("indexed answers")

    def __str__(self) -> str:
        return f"{self.source}:{self.ref} {self.title}"


class IndexState(models.Model):
    """A single row: bumped on every index change so each process knows when its BM25 matrix is stale."""

    generation = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("index state")
        verbose_name_plural = _("index states")

    def __str__(self) -> str:
        return f"generation {self.generation}"


class AssistSettings(models.Model):
    """A single row of admin settings."""

    auto_apply_threshold = models.FloatField(
        _("auto-apply confidence"),
        default=0.85,
        help_text=_("Suggested tags and team are applied to new tickets at or above this confidence (0–1)."),
    )
    auto_apply_enabled = models.BooleanField(_("apply suggestions automatically"), default=True)
    good_rating = models.PositiveSmallIntegerField(
        _("good survey rating"), default=4, help_text=_("Past replies are suggested when the survey rated at least this.")
    )
    summary_min_messages = models.PositiveSmallIntegerField(
        _("summarize conversations of at least"), default=6, help_text=_("messages, on transfer or reassignment")
    )

    class Meta:
        verbose_name = _("assist settings")
        verbose_name_plural = _("assist settings")

    def __str__(self) -> str:
        return str(_("Assist settings"))

    @classmethod
    def current(cls) -> AssistSettings:
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class ClassifierModel(models.Model):
    """A trained text classifier (pickled scikit-learn pipeline), shared by every process via the DB."""

    KIND_CHOICES = [("team", _("Team")), ("tags", _("Tags"))]
    kind = models.CharField(_("kind"), max_length=8, choices=KIND_CHOICES)
    blob = models.BinaryField()
    samples = models.PositiveIntegerField(_("training tickets"))
    labels = models.JSONField(_("labels"), default=list)
    trained_at = models.DateTimeField(_("trained"), default=timezone.now)

    class Meta:
        ordering = ["-trained_at", "-id"]
        verbose_name = _("classifier")
        verbose_name_plural = _("classifiers")

    def __str__(self) -> str:
        return f"{self.kind} ({self.samples})"


class Prediction(models.Model):
    """A suggested team or tag for a ticket, with its confidence; `applied` when it was set automatically."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="assist_predictions")
    kind = models.CharField(_("kind"), max_length=8, choices=ClassifierModel.KIND_CHOICES)
    label = models.CharField(_("label"), max_length=100)
    confidence = models.FloatField(_("confidence"))
    applied = models.BooleanField(_("applied automatically"), default=False)
    accepted = models.BooleanField(_("accepted by an agent"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "-confidence"]
        constraints = [models.UniqueConstraint(fields=["ticket", "kind", "label"], name="assist_prediction_unique")]
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")

    def __str__(self) -> str:
        return f"{self.kind}={self.label} ({self.confidence:.2f})"


class Summary(models.Model):
    """An extractive summary written when a conversation changed hands; one per handover event."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="assist_summaries")
    trigger = models.CharField(_("trigger"), max_length=60, unique=True)
    text = models.TextField(_("summary"))
    note = models.ForeignKey("tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("summary")
        verbose_name_plural = _("summaries")

    def __str__(self) -> str:
        return f"summary of #{self.ticket_id}"


class Flow(models.Model):
    """A chat bot flow attached to a widget. Its steps live in versions; the newest published one is live."""

    name = models.CharField(_("name"), max_length=120)
    widget_id = models.PositiveBigIntegerField(_("widget id"), null=True, blank=True, db_index=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("chat flow")
        verbose_name_plural = _("chat flows")

    def __str__(self) -> str:
        return self.name

    def live_version(self) -> FlowVersion | None:
        return self.versions.order_by("-number").first()


class FlowVersion(models.Model):
    """An immutable snapshot of a flow's steps. Saving a flow adds a version; running chats keep theirs."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("steps"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["flow", "-number"]
        constraints = [models.UniqueConstraint(fields=["flow", "number"], name="assist_flow_version_unique")]
        verbose_name = _("flow version")
        verbose_name_plural = _("flow versions")

    def __str__(self) -> str:
        return f"{self.flow} v{self.number}"


class RunStatus(models.TextChoices):
    ACTIVE = "active", _("In progress")
    RESOLVED = "resolved", _("Resolved by the bot")
    HANDOFF = "handoff", _("Handed to an agent")
    ABANDONED = "abandoned", _("Abandoned")


class FlowRun(models.Model):
    """One conversation going through one pinned flow version."""

    version = models.ForeignKey(FlowVersion, on_delete=models.PROTECT, related_name="runs")
    session_key = models.CharField(_("chat session"), max_length=64, unique=True)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    step = models.CharField(_("current step"), max_length=64, blank=True)
    waiting = models.BooleanField(_("waiting for the visitor"), default=False)
    variables = models.JSONField(_("answers"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.ACTIVE)
    handoff_team_id = models.PositiveBigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("flow run")
        verbose_name_plural = _("flow runs")

    def __str__(self) -> str:
        return f"run {self.pk} of {self.version}"


class StepVisit(models.Model):
    """A run entered a step (for per-step entries and drop-offs)."""

    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="visits")
    step = models.CharField(max_length=64)
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["run", "entered_at"], name="assist_visit_run")]
        verbose_name = _("step visit")
        verbose_name_plural = _("step visits")

    def __str__(self) -> str:
        return f"{self.run_id}:{self.step}"
