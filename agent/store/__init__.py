"""The SQLite store: the schema (every table, as ordered migrations), the connection, and the query
functions of each table family (readings and sensors, files, users, roll-ups, retention, storage use).
Only this package writes SQL for those tables.
"""

from agent.store.connection import Store, StoreError, open_store
from agent.store.files import DOCUMENT_TYPES, IMAGE_TYPES, FileError, check_upload, get_file, store_file
from agent.store.readings import from_ms, last_states, reading_interval, sensors_at, series, sync_sensors, to_ms
from agent.store.retention import roll_up
from agent.store.rollups import bucket_width_s, downsample, ensure_rollups
from agent.store.usage import storage_job
from agent.store.users import (
    UserError,
    add_user,
    authenticate,
    clear_login_failures,
    count_users,
    create_token,
    get_user,
    login_wait,
    record_login_failure,
    user_for_token,
)

__all__ = [
    "DOCUMENT_TYPES",
    "FileError",
    "IMAGE_TYPES",
    "Store",
    "StoreError",
    "UserError",
    "add_user",
    "authenticate",
    "bucket_width_s",
    "check_upload",
    "clear_login_failures",
    "count_users",
    "create_token",
    "downsample",
    "ensure_rollups",
    "from_ms",
    "get_file",
    "get_user",
    "last_states",
    "login_wait",
    "open_store",
    "reading_interval",
    "record_login_failure",
    "roll_up",
    "sensors_at",
    "series",
    "storage_job",
    "store_file",
    "sync_sensors",
    "to_ms",
    "user_for_token",
]
