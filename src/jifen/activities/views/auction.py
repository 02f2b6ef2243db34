"""Activity pages: the auction part (portal and console)."""

portal_urlpatterns: list = []
console_urlpatterns: list = []
