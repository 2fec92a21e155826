"""REST API (CONTRACT `articles/`): agents read, supervisors and admins create and edit; `?q=` ranks."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from tickets.permissions import IsAgent, IsManagerOrReadOnly

from . import selectors, services
from .models import Article, ArticleStatus, Category, Revision, Visibility
from .search import search_articles


# Documented as a plain string: drf-spectacular names every enum after its field, and "status" is already a
# different choice set for tickets (an enum here would make the schema's names collide).
@extend_schema_field({"type": "string", "description": "draft | published"})
class ArticleStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs) -> None:
        super().__init__(choices=ArticleStatus.choices, **kwargs)


class ArticleSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    status = ArticleStatusField(required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), allow_null=True, required=False)
    translation_of = serializers.PrimaryKeyRelatedField(queryset=Article.objects.all(), allow_null=True, required=False)
    author = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = [
            "id", "title", "slug", "body", "html", "summary", "category", "tags", "visibility", "status", "language",
            "translation_of", "url", "author", "views", "helpful_yes", "helpful_no", "created_at", "updated_at", "published_at",
        ]  # fmt: skip
        read_only_fields = ["id", "html", "url", "author", "views", "helpful_yes", "helpful_no", "created_at", "updated_at", "published_at"]
        validators = []  # uniqueness is the service's job (it answers with a clear message)
        extra_kwargs = {"slug": {"required": False, "allow_blank": True, "validators": []}, "body": {"required": False}}

    def get_url(self, article: Article) -> str:
        request = self.context.get("request")
        if not article.is_public:
            return ""
        path = article.get_absolute_url()
        return request.build_absolute_uri(path) if request else path

    def get_author(self, article: Article) -> dict | None:
        if not article.author_id:
            return None
        return {"id": article.author_id, "name": article.author.get_full_name() or article.author.get_username()}


class HitSerializer(ArticleSerializer):
    score = serializers.FloatField(read_only=True)
    title_html = serializers.CharField(read_only=True)
    snippet = serializers.CharField(read_only=True)
    excerpt = serializers.CharField(read_only=True)

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "score", "title_html", "snippet", "excerpt"]


class RevisionSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    status = ArticleStatusField(read_only=True)

    class Meta:
        model = Revision
        fields = ["id", "number", "title", "body", "status", "visibility", "author", "note", "created_at"]

    def get_author(self, revision: Revision) -> dict | None:
        if not revision.author_id:
            return None
        return {"id": revision.author_id, "name": revision.author.get_full_name() or revision.author.get_username()}


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "description", "parent", "position", "visibility"]


@extend_schema(
    parameters=[
        OpenApiParameter("q", str, description="Full-text query; results ranked by relevance, with `suggestion` when nothing matches."),
        OpenApiParameter("match", str, enum=["all", "any"], description="`any`: rank articles sharing any word (suggestions from a message)."),
        OpenApiParameter("language", str), OpenApiParameter("category", int), OpenApiParameter("tag", str),
        OpenApiParameter("visibility", str, enum=["public", "internal"]), OpenApiParameter("status", str, description="draft | published"),
    ]
)
class ArticleViewSet(viewsets.ModelViewSet):
    serializer_class = ArticleSerializer
    permission_classes = [IsManagerOrReadOnly]

    def get_queryset(self):
        qs = selectors.articles_for_agent(agent=self.request.user)
        params = self.request.query_params
        for name, field in (("language", "language"), ("visibility", "visibility"), ("status", "status")):
            if params.get(name):
                qs = qs.filter(**{field: params[name]})
        if params.get("category", "").isdigit():
            qs = qs.filter(category_id=int(params["category"]))
        return qs.order_by("-updated_at", "-id")

    def list(self, request: Request, *args, **kwargs) -> Response:
        q = request.query_params.get("q", "").strip()[:500]
        if not q:
            qs = self.get_queryset()
            tag = request.query_params.get("tag", "").strip().lower()
            if tag:
                qs = qs.filter(tags_text__icontains=tag)
                qs = [a for a in qs[:500] if tag in a.tags]
            page = self.paginate_queryset(qs)
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        return self._search(request, q)

    def _search(self, request: Request, q: str) -> Response:
        from .panels import excerpt

        params = request.query_params
        paginator = self.paginator
        page_size = min(int(params.get("page_size", "0")) if params.get("page_size", "").isdigit() else paginator.page_size, 50) or paginator.page_size
        page = int(params["page"]) if params.get("page", "").isdigit() and int(params["page"]) > 0 else 1
        language = params.get("language", "")
        language = language if language in selectors.LANGUAGE_CODES else ""
        category = int(params["category"]) if params.get("category", "").isdigit() else None
        result = search_articles(
            q, audience="agent", language=language, category_id=category, match="any" if params.get("match") == "any" else "all",
            limit=page_size, offset=(page - 1) * page_size,
        )  # fmt: skip
        data = []
        for hit in result.hits:
            item = hit.article
            item.score, item.title_html, item.snippet, item.excerpt = round(hit.rank, 6), hit.title_html, hit.snippet_html, excerpt(item)
            data.append(item)
        next_url = None
        if page * page_size < result.total:
            query = params.copy()
            query["page"] = str(page + 1)
            next_url = request.build_absolute_uri(request.path + "?" + query.urlencode())
        body = {"count": result.total, "count_capped": result.capped, "next": next_url, "results": HitSerializer(data, many=True, context={"request": request}).data}
        if result.suggestion or not result.hits:
            body["suggestion"] = result.suggestion or None
        return Response(body)

    def create(self, request: Request, *args, **kwargs) -> Response:
        data = self._validated(request, partial=False)
        try:
            article = services.save_article(author=request.user, **data)
        except services.InvalidArticle as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(self.get_serializer(article).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        article = self.get_object()
        data = self._validated(request, partial=kwargs.get("partial", False), instance=article)
        try:
            article = services.save_article(author=request.user, article=article, **data)
        except services.InvalidArticle as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(self.get_serializer(article).data)

    @extend_schema(responses=RevisionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def revisions(self, request: Request, pk=None) -> Response:
        article = self.get_object()
        return Response(RevisionSerializer(article.revisions.select_related("author"), many=True).data)

    @extend_schema(request=None, responses=ArticleSerializer)
    @action(detail=True, methods=["post"], url_path=r"revisions/(?P<number>\d+)/restore")
    def restore(self, request: Request, pk=None, number=None) -> Response:
        article = self.get_object()
        revision = get_object_or_404(Revision, article=article, number=int(number))
        article = services.restore_revision(revision=revision, author=request.user)
        return Response(self.get_serializer(article).data)

    @extend_schema(request={"application/json": {"type": "object", "properties": {"helpful": {"type": "boolean"}}}}, responses=ArticleSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAgent])
    def vote(self, request: Request, pk=None) -> Response:
        """An agent's own vote (one per agent)."""
        article = self.get_object()
        helpful = request.data.get("helpful")
        if not isinstance(helpful, bool):
            raise ValidationError({"helpful": ["true or false"]})
        article = services.vote(article=article, voter=f"u:{request.user.pk}", helpful=helpful)
        return Response(self.get_serializer(article).data)

    def _validated(self, request: Request, *, partial: bool, instance: Article | None = None) -> dict:
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "visibility" in data and data["visibility"] not in Visibility.values:
            raise ValidationError({"visibility": ["public or internal"]})
        if "status" in data and data["status"] not in ArticleStatus.values:
            raise ValidationError({"status": ["draft or published"]})
        return data


class CategoryViewSet(viewsets.ModelViewSet):
    serializer_class = CategorySerializer
    permission_classes = [IsManagerOrReadOnly]
    queryset = Category.objects.all()
