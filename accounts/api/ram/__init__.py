"""RAM (2015-05-01) on the OpenAPI endpoint: its actions, by what they act on, over the portal's services."""

from accounts.api.ram import access_keys, groups, logon, mfa, policies, settings, users  # noqa: F401 - registers the actions
