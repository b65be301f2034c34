"""STS (2015-04-01) on the OpenAPI endpoint: who the caller is."""

from accounts.api.sts import identity  # noqa: F401 - registers the actions
