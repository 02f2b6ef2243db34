"""Library pages: the resources part (portal and console)."""

portal_urlpatterns: list = []
console_urlpatterns: list = []
