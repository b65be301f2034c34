"""IMS (2019-08-15), the RAM console's own API generation, on the same endpoint: a table of actions, each RAM's
action's code (or the same services) under IMS's names, so that no rule lives in one API only."""

from accounts.api.ims import credential_report, settings, users  # noqa: F401 - registers the actions
