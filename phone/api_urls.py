from rest_framework.routers import SimpleRouter

from .api import PhoneNumberViewSet

router = SimpleRouter()
router.register("phone-numbers", PhoneNumberViewSet, basename="phone-number")

urlpatterns = router.urls
