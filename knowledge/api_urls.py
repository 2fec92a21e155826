from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("articles", api.ArticleViewSet, basename="kb-article")
router.register("article-categories", api.CategoryViewSet, basename="kb-category")

urlpatterns = router.urls
