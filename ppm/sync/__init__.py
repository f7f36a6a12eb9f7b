"""The offline sync delta (SPEC §9): every task and link change of a project since a cursor.

The per-project sequence itself lives low, in `ppm.projects.services.next_sync_number`, so
writers never import this package."""
