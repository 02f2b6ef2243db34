"""Library pages: the engagement part (portal and console)."""

portal_urlpatterns: list = []
console_urlpatterns: list = []
