"""WeCom (企业微信) sign-in as an allauth provider: the web OAuth flow with scope
``snsapi_base`` (no consent screen inside WeCom), which yields the member's ``userid``;
the social account adapter links that userid to an employee."""
