"""The SQLite store: the schema (every table, as ordered migrations), the connection, and the query
functions of each table family (readings and sensors, files, users, roll-ups, retention, storage use).
Only this package writes SQL for those tables.
"""

from agent.store.connection import Store, StoreError, open_store, storage_problem
from agent.store.files import DOCUMENT_TYPES, IMAGE_TYPES, FileError, check_upload, get_file, store_file
from agent.store.readings import from_ms, sensors_at, series, sync_sensors, to_ms
from agent.store.retention import roll_up
from agent.store.rollups import bucket_width_s, downsample, ensure_rollups
from agent.store.runlock import RunLock
from agent.store.usage import storage_job
from agent.store.users import (
    UserError,
    add_user,
    authenticate,
    count_users,
    create_token,
    end_session,
    finish_login,
    get_user,
    list_tokens,
    list_users,
    reserve_login,
    revoke_token,
    session_user,
    set_disabled,
    set_password,
    start_session,
    user_for_token,
)

__all__ = [
    "DOCUMENT_TYPES",
    "FileError",
    "IMAGE_TYPES",
    "RunLock",
    "Store",
    "StoreError",
    "UserError",
    "add_user",
    "authenticate",
    "bucket_width_s",
    "check_upload",
    "count_users",
    "create_token",
    "downsample",
    "end_session",
    "finish_login",
    "ensure_rollups",
    "from_ms",
    "get_file",
    "get_user",
    "list_tokens",
    "list_users",
    "open_store",
    "reserve_login",
    "revoke_token",
    "roll_up",
    "sensors_at",
    "series",
    "session_user",
    "set_disabled",
    "set_password",
    "start_session",
    "storage_job",
    "storage_problem",
    "store_file",
    "sync_sensors",
    "to_ms",
    "user_for_token",
]
