"""Sign-in: validate an identity provider's ID token, sync team memberships, issue a session."""
