// The server database schema (one SQLite file under --data_dir). Idempotent:
// run on every start. Version 1.
#ifndef PROXFLOW_SERVER_STORAGE_SCHEMA_H_
#define PROXFLOW_SERVER_STORAGE_SCHEMA_H_

namespace proxflow::server {

// jobs: one row per job; `job` is the serialized proxflow.v1.Job (the source
//   of truth), `state` and `dataset` copy fields for filtering. `seq` orders
//   jobs by submission and is the page token.
// job_events: every JobEvent except heartbeats, keyed by (job, sequence).
// models, checkpoints (the serialized proxflow.v1.Checkpoint without its
//   aliases, plus copies of the fields lists filter on; `seq` orders versions
//   by creation and is the page token), checkpoint_files (blob references),
//   checkpoint_tags, aliases and alias_history: the checkpoint registry.
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
CREATE TABLE IF NOT EXISTS datasets (
  name TEXT PRIMARY KEY,
  file TEXT NOT NULL,
  dataset BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS models (
  name TEXT PRIMARY KEY,
  latest_version INTEGER NOT NULL,
  create_time_us INTEGER NOT NULL,
  update_time_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid TEXT NOT NULL UNIQUE,
  model TEXT NOT NULL,
  version INTEGER NOT NULL,
  status INTEGER NOT NULL,
  job_id TEXT NOT NULL,
  purged INTEGER NOT NULL,
  checkpoint BLOB NOT NULL,
  UNIQUE (model, version)
);
CREATE INDEX IF NOT EXISTS checkpoints_by_job ON checkpoints(job_id, seq);
CREATE INDEX IF NOT EXISTS checkpoints_by_status ON checkpoints(status, seq);
CREATE TABLE IF NOT EXISTS checkpoint_files (
  uuid TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (uuid, sha256)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS checkpoint_files_by_sha ON checkpoint_files(sha256);
CREATE TABLE IF NOT EXISTS checkpoint_tags (
  tag TEXT NOT NULL,
  uuid TEXT NOT NULL,
  PRIMARY KEY (tag, uuid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aliases (
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (model, alias)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alias_history (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  model TEXT NOT NULL,
  alias TEXT NOT NULL,
  change BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS alias_history_by_model ON alias_history(model, seq);
PRAGMA user_version = 2;
)sql";

}  // namespace proxflow::server

#endif  // PROXFLOW_SERVER_STORAGE_SCHEMA_H_
