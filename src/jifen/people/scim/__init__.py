"""SCIM 2.0 provisioning (RFC 7643/7644) of employees and departments.

Identity providers (Okta, Entra ID, Keycloak …) push users and groups here; every write
goes through the same people services the console and the API use. See
docs/decisions/0021-scim.md for the choices (ids, mapping, auth)."""
