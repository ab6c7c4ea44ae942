"""Imports every module of scheduled tasks, so that their ``@task`` decorators register them."""
from schedules import officials, operations, visits  # noqa: F401  (digests and escalation; heartbeat and backup; visits)
