"""Backups: the nightly online copy of the database (checked, rotated), the check of any copy, and restore."""

from agent.backup.check import CopyCheck, check_copy
from agent.backup.restore import RestoreError, RestoreResult, holders, restore_database
from agent.backup.take import (
    BackupError,
    BackupResult,
    backup_due,
    backup_job,
    last_backup,
    list_backups,
    run_backup,
    same_device,
    take_backup,
)

__all__ = [
    "BackupError",
    "BackupResult",
    "CopyCheck",
    "RestoreError",
    "RestoreResult",
    "backup_due",
    "backup_job",
    "check_copy",
    "holders",
    "last_backup",
    "list_backups",
    "restore_database",
    "run_backup",
    "same_device",
    "take_backup",
]
