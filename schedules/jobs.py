"""Imports every module of scheduled tasks, so that their ``@task`` decorators register them."""
