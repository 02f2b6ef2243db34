from django.apps import AppConfig


class WeComConfig(AppConfig):
    name = "jifen.people.sso.wecom"
    label = "jifen_wecom"
    verbose_name = "WeCom"
