"""Activity pages: the centre part (portal and console)."""

portal_urlpatterns: list = []
console_urlpatterns: list = []
