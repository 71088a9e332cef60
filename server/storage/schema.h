// The server database schema (one SQLite file under --data_dir). Idempotent:
// run on every start. Version 1.
#ifndef PROXFLOW_SERVER_STORAGE_SCHEMA_H_
#define PROXFLOW_SERVER_STORAGE_SCHEMA_H_

namespace proxflow::server {

// jobs: one row per job; `job` is the serialized proxflow.v1.Job (the source
//   of truth), `state` and `dataset` copy fields for filtering. `seq` orders
//   jobs by submission and is the page token.
// job_events: every JobEvent except heartbeats, keyed by (job, sequence).
// job_checkpoints: files under checkpoints/<job>/, with their SHA-256.
// datasets: uploaded datasets; `dataset` is the serialized proxflow.v1.Dataset.
inline constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  state INTEGER NOT NULL,
  dataset TEXT,
  request_id TEXT UNIQUE,
  body_sha256 TEXT NOT NULL,
  job BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, seq);
CREATE TABLE IF NOT EXISTS job_events (
  job_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  event BLOB NOT NULL,
  PRIMARY KEY (job_id, sequence)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS job_checkpoints (
  job_id TEXT NOT NULL,
  step INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  file TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  PRIMARY KEY (job_id, step, attempt)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS datasets (
  name TEXT PRIMARY KEY,
  file TEXT NOT NULL,
  dataset BLOB NOT NULL
) WITHOUT ROWID;
PRAGMA user_version = 1;
)sql";

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_STORAGE_SCHEMA_H_
