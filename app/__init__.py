"""teamclaims: team memberships from identity-provider group claims, behind Mondoo's IAM API."""
