"""Keep open agent sockets in step with access changes (team membership); sessions are checked by the socket."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import Signal, receiver

from . import events
from .models import AgentProfile, Team

# Sent with `contacts=[Contact, ...]` when ingest writes a batch's new contacts in one INSERT (a bulk insert
# sends no post_save). Apps that keep something per contact listen to both.
contacts_created = Signal()


def _access_changed(user_ids) -> None:
    for user_id in set(user_ids):
        transaction.on_commit(partial(_notify, user_id))


def _notify(user_id: int) -> None:
    events.group_send_sync([f"agent.{user_id}"], {"type": "hd.access_changed"})


@receiver(m2m_changed, sender=Team.members.through)
def team_membership_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if reverse:  # user.helpdesk_teams changed
        _access_changed([instance.pk])
    elif pk_set:
        _access_changed(pk_set)


@receiver(post_save, sender=AgentProfile)
def profile_changed(sender, instance, created, update_fields=None, **kwargs) -> None:
    if update_fields is None or "role" in update_fields:
        _access_changed([instance.user_id])
