"""Start the test identity provider: migrate its SQLite file, create its users and the
client for jifen, then serve on 127.0.0.1:<port> until killed. Prints READY when up.

Environment: IDP_DATABASE, IDP_KEY_FILE, IDP_PORT, IDP_CLIENT_ID, IDP_CLIENT_SECRET,
IDP_REDIRECT_URIS (space separated), IDP_USERS (JSON list of {username, password, email})."""

import json
import os
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.identity.oidc_provider.settings"

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main() -> None:
    call_command("migrate", verbosity=0)
    for person in json.loads(os.environ.get("IDP_USERS", "[]")):
        user = User.objects.create_user(person["username"], person.get("email", ""),
                                        person["password"])
        user.save()
    Application.objects.create(
        name="jifen", client_id=os.environ["IDP_CLIENT_ID"],
        client_secret=os.environ["IDP_CLIENT_SECRET"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=os.environ["IDP_REDIRECT_URIS"], algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    server = make_server("127.0.0.1", int(os.environ["IDP_PORT"]), get_wsgi_application(),
                         server_class=ThreadingServer, handler_class=QuietHandler)
    print("READY", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
