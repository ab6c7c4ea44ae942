"""Imports every module of scheduled tasks, so that their ``@task`` decorators register them."""
from schedules import officials, operations, visits  # noqa: F401,E402  (issue 3: digests, escalation, closing the loop)
