"""Feature modules beyond the foundation. Importing this module registers their handlers, jobs and commands."""
