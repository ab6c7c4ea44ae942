"""Imports every module of scheduled tasks, so that their ``@task`` decorators register them."""
from . import (
    officials,  # noqa: F401,E402  (issue 3: digests, escalation, closing the loop)
    operations,  # noqa: F401,E402  (issue 6: heartbeat, daily backup)
    visits,  # noqa: F401  (issue 4: announcements, briefings, feedback, commitments)
)
