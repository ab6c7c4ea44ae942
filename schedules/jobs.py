"""Imports every module of scheduled tasks, so that their ``@task`` decorators register them."""
from . import visits  # noqa: F401  (Ngantor di Kecamatan: announcements, briefings, feedback, commitments)
