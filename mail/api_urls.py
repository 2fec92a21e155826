from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("mailboxes", api.MailboxViewSet, basename="mailbox")

urlpatterns = router.urls
