"""Activity pages: the lottery part (portal and console)."""

portal_urlpatterns: list = []
console_urlpatterns: list = []
