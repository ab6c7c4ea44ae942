"""Imports every module of scheduled tasks, so that their ``@task`` decorators register them."""
from . import visits  # noqa: F401  (issue 4: announcements, briefings, feedback, commitments)
