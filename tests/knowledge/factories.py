"""Articles are made through the service, like editors make them: rendered, sanitized, indexed, revised."""

from __future__ import annotations

import factory

from knowledge.models import Article, Category
from knowledge.services import save_article


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class ArticleFactory(factory.Factory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Article number {n}")
    body = "Some helpful text."
    status = "published"
    visibility = "public"
    language = "en"
    author = None

    @classmethod
    def _create(cls, model_class, *args, author=None, **kwargs):
        return save_article(author=author, **kwargs)

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("articles are created through knowledge.services.save_article")
