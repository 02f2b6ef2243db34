"""Single sign-on: the sign-in policy (password sign-in per role, second factor for
admins), the identity providers admins configure (OpenID Connect, WeCom, DingTalk, Feishu,
kept in allauth's ``SocialApp``) and allauth's adapters, which link a provider's account
to an existing employee and never create one (docs/decisions/0020-sign-in-with-allauth.md)."""
