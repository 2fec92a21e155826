"""Suggested team and tags for a new ticket, learned from past tickets.

Two small scikit-learn pipelines (TF-IDF over the same Snowball stems as retrieval, then logistic
regression; one-vs-rest for tags) are trained by `manage.py assist_train` and on a schedule, stored pickled
in the DB so every process uses the same model. On `ticket.created` a prediction at or above the admin's
threshold is applied through `tickets.services`; the rest are kept with their confidence and shown on the
ticket page.
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass

from django.db import transaction

from tickets import events

from . import text as textlib
from .models import AssistSettings, ClassifierModel, Prediction

log = logging.getLogger(__name__)

MIN_SAMPLES = 10
MIN_TAG_TICKETS = 3
MAX_TRAINING_TICKETS = 20_000
SHOW_TAG_ABOVE = 0.3
_cache: dict[str, tuple[int, object]] = {}


@dataclass(frozen=True)
class Guess:
    kind: str  # "team" | "tags"
    label: str  # team id (as text) or tag name
    confidence: float


def analyze(text: str) -> list[str]:
    """Tokenizer of the pipelines (module level so the pickled pipeline can find it)."""
    return textlib.tokens(text)


def ticket_text(ticket) -> str:
    from tickets.models import Message

    first = (
        Message.objects.filter(ticket=ticket, direction="inbound").order_by("created_at", "id").values_list("text", flat=True).first()
    ) or ""
    return f"{ticket.subject}\n{first[:3000]}"


def train(stdout=None) -> dict[str, int]:
    """Fit both classifiers on past tickets and store them. Returns the number of samples per kind (0 = skipped)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MultiLabelBinarizer

    from tickets.models import Ticket

    tickets = list(
        Ticket.objects.filter(merged_into__isnull=True).order_by("-created_at").prefetch_related("tags")[:MAX_TRAINING_TICKETS]
    )
    texts = {t.pk: ticket_text(t) for t in tickets}
    result = {"team": 0, "tags": 0}

    with_team = [t for t in tickets if t.team_id]
    if len(with_team) >= MIN_SAMPLES and len({t.team_id for t in with_team}) >= 2:
        pipeline = make_pipeline(_vectorizer(TfidfVectorizer), LogisticRegression(max_iter=2000, C=5.0))
        labels = [str(t.team_id) for t in with_team]
        pipeline.fit([texts[t.pk] for t in with_team], labels)
        _store("team", pipeline, len(with_team), sorted(set(labels)))
        result["team"] = len(with_team)

    counts: dict[str, int] = {}
    for t in tickets:
        for tag in t.tags.all():
            counts[tag.name] = counts.get(tag.name, 0) + 1
    frequent = sorted(name for name, n in counts.items() if n >= MIN_TAG_TICKETS)
    if len(tickets) >= MIN_SAMPLES and frequent:
        binarizer = MultiLabelBinarizer(classes=frequent)
        y = binarizer.fit_transform([[tag.name for tag in t.tags.all() if tag.name in frequent] for t in tickets])
        pipeline = make_pipeline(_vectorizer(TfidfVectorizer), OneVsRestClassifier(LogisticRegression(max_iter=2000, C=5.0)))
        pipeline.fit([texts[t.pk] for t in tickets], y)
        _store("tags", {"pipeline": pipeline, "classes": frequent}, len(tickets), frequent)
        result["tags"] = len(tickets)
    if stdout is not None:
        stdout.write(f"team classifier: {result['team'] or 'skipped (too few tickets or teams)'}; tag classifier: {result['tags'] or 'skipped (no frequent tags)'}\n")
    return result


def predict(text: str) -> list[Guess]:
    guesses: list[Guess] = []
    team_model = _load("team")
    if team_model is not None:
        probs = team_model.predict_proba([text])[0]
        best = int(probs.argmax())
        guesses.append(Guess("team", str(team_model.classes_[best]), float(probs[best])))
    tag_model = _load("tags")
    if tag_model is not None:
        probs = tag_model["pipeline"].predict_proba([text])[0]
        for name, p in zip(tag_model["classes"], probs, strict=True):
            if p >= SHOW_TAG_ABOVE:
                guesses.append(Guess("tags", name, float(p)))
    return guesses


def classify_ticket(ticket_id: int) -> list[Prediction]:
    """Predict team and tags of a new ticket; apply those at or above the threshold, store all."""
    from tickets import services
    from tickets.models import Team, Ticket

    if _load("team") is None and _load("tags") is None:
        return []  # nothing trained yet: no need to read the ticket
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return []
    guesses = predict(ticket_text(ticket))
    if not guesses:
        return []
    config = AssistSettings.current()
    stored = []
    for guess in guesses:
        apply = config.auto_apply_enabled and guess.confidence >= config.auto_apply_threshold
        if guess.kind == "team":
            team = Team.objects.filter(pk=int(guess.label)).first()
            if team is None:
                continue
            # Chats are routed by their widget's team while the visitor waits: never move one under the router.
            apply = apply and ticket.channel != "chat" and ticket.team_id != team.pk
            if apply:
                services.set_team(ticket=ticket, actor=None, team=team)
        elif apply:
            services.set_tags(ticket=ticket, actor=None, add=[guess.label])
        prediction, _created = Prediction.objects.update_or_create(
            ticket=ticket, kind=guess.kind, label=guess.label, defaults={"confidence": guess.confidence, "applied": apply}
        )
        stored.append(prediction)
    return stored


def accept(*, prediction: Prediction, actor) -> None:
    """An agent accepts a suggestion shown on the ticket page."""
    from tickets import services
    from tickets.models import Team

    ticket = prediction.ticket
    if prediction.kind == "team":
        team = Team.objects.filter(pk=int(prediction.label)).first()
        if team is not None:
            services.set_team(ticket=ticket, actor=actor, team=team)
    else:
        services.set_tags(ticket=ticket, actor=actor, add=[prediction.label])
    Prediction.objects.filter(pk=prediction.pk).update(accepted=True)


def on_ticket_created(kind: str, data: dict) -> None:
    if data.get("ticket_id"):
        classify_ticket(int(data["ticket_id"]))


def _vectorizer(cls):
    return cls(tokenizer=analyze, lowercase=False, token_pattern=None, ngram_range=(1, 2), sublinear_tf=True, min_df=1)


def _store(kind: str, model: object, samples: int, labels: list[str]) -> None:
    with transaction.atomic():
        ClassifierModel.objects.create(kind=kind, blob=pickle.dumps(model), samples=samples, labels=labels)
        # Keep the last three of each kind, for a look back.
        old = ClassifierModel.objects.filter(kind=kind).order_by("-trained_at", "-id").values_list("pk", flat=True)[3:]
        ClassifierModel.objects.filter(pk__in=list(old)).delete()


def _load(kind: str):
    latest = events.memo(
        f"assist.classifier.{kind}",
        lambda: ClassifierModel.objects.filter(kind=kind).order_by("-trained_at", "-id").values_list("pk", flat=True).first(),
    )
    if latest is None:
        return None
    cached = _cache.get(kind)
    if cached is not None and cached[0] == latest:
        return cached[1]
    blob = ClassifierModel.objects.filter(pk=latest).values_list("blob", flat=True).first()
    model = pickle.loads(bytes(blob))  # noqa: S301 - written by `train` above, never from outside
    _cache[kind] = (latest, model)
    return model
