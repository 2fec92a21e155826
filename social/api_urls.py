from rest_framework.routers import SimpleRouter

from .api import MessengerPageViewSet

router = SimpleRouter()
router.register("messenger-pages", MessengerPageViewSet, basename="messenger-page")

urlpatterns = router.urls
