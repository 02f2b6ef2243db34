from oauth2_provider.oauth2_validators import OAuth2Validator


class Validator(OAuth2Validator):
    # Every claim below is given whatever the scopes (employee_no is no standard claim).
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        user = request.user
        return {"email": user.email, "employee_no": user.username,
                "name": user.get_full_name() or user.username}
