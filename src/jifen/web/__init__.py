"""The project-level web shell: the pages and template context that gather what several
apps know (the portal's home, the console's dashboard, the unread-notification bell). It
sits above every app, beside ``jifen.api`` and the URL composition (``jifen.web_urls``)."""
