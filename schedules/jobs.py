"""Imports every module of scheduled tasks, so that their ``@task`` decorators register them."""
from . import menus, visits  # noqa: F401  (issue 4: command menus; announcements, briefings, feedback, commitments)
