"""SIGKILL of `run` during a 1,000 msg/s QoS 1 stream and of a logbook writer during its writes (issue 13).

The suite does 5 of each in 5 seconds; `bench/faults.py` does 50 (docs/RELIABILITY.md has its figures).
Every published reading is stored exactly once (no device timestamps: the redelivery guard does it), every
entry the writer was told was saved is there, the chain is intact, and SQLite's integrity_check says ok.
"""

from __future__ import annotations

from .scenarios import kill_scenario


def test_five_sigkills_during_a_1000_msg_per_s_stream_and_logbook_writes_lose_nothing(tmp_path, broker):
    f = kill_scenario(tmp_path, broker.port, kills=5, rate=1000, seconds=5)
    assert f.run_kills == 5 and f.writer_kills == 6  # five during the stream, the last one after it
    assert (f.published, f.stored, f.duplicates, f.missing) == (5000, 5000, 0, 0), f
    assert f.entries_acknowledged > 0 and f.entries_missing == 0, f
    assert f.chain_problem is None and f.integrity == "ok", f
