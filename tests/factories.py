"""Factories for tests of every app."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from tickets.models import AgentProfile, Contact, ContactIdentity, Message, Team, Ticket


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"agent{n}")
    first_name = factory.Sequence(lambda n: f"Agent{n}")
    last_name = "Tester"
    email = factory.LazyAttribute(lambda u: f"{u.username}@desk.example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def save_password(self, create, extracted, **kwargs):
        if create:
            self.save()


class AgentFactory(UserFactory):
    """A user with an agent profile, member of `teams` (a list) when given."""

    @factory.post_generation
    def profile(self, create, extracted, **kwargs):
        if create:
            AgentProfile.objects.create(user=self, **(extracted or {}))

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.helpdesk_teams.set(extracted)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.org")

    @factory.post_generation
    def identity(self, create, extracted, **kwargs):
        if create and self.email:
            ContactIdentity.objects.create(contact=self, kind="email", address=self.email)


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    subject = factory.Sequence(lambda n: f"Problem {n}")
    channel = "email"
    contact = factory.SubFactory(ContactFactory)
    team = factory.SubFactory(TeamFactory)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message
        skip_postgeneration_save = True

    ticket = factory.SubFactory(TicketFactory)
    direction = "inbound"
    channel = factory.LazyAttribute(lambda m: m.ticket.channel)
    author_contact = factory.LazyAttribute(lambda m: m.ticket.contact)
    text = factory.Sequence(lambda n: f"Message text {n}")
