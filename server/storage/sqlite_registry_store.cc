// RegistryStore over the server's SQLite database (tables in schema.h).
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/base/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "server/now_timestamp.h"
#include "server/storage/registry_store.h"
#include "server/storage/stored_proto.h"

namespace proxflow::server {
namespace {

namespace pb = proxflow::v1;
using google::protobuf::util::TimeUtil;

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

// The row form of a version: aliases are derived, never stored.
std::string StoredBytes(const pb::Checkpoint& c) {
  pb::Checkpoint copy = c;
  copy.clear_aliases();
  return copy.SerializeAsString();
}

// Rewrites the tag and file index rows of `c`.
absl::Status WriteIndexes(Connection& conn, const pb::Checkpoint& c) {
  for (const char* sql : {"DELETE FROM checkpoint_tags WHERE uuid = ?",
                          "DELETE FROM checkpoint_files WHERE uuid = ?"}) {
    PROXFLOW_ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql));
    PROXFLOW_RETURN_IF_ERROR(s.Bind(1, c.uuid()).Run());
  }
  for (const std::string& tag : c.tags()) {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s, conn.Prepare("INSERT OR IGNORE INTO checkpoint_tags(tag, "
                                  "uuid) VALUES (?, ?)"));
    PROXFLOW_RETURN_IF_ERROR(s.Bind(1, tag).Bind(2, c.uuid()).Run());
  }
  for (const pb::CheckpointFile& f : c.files()) {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s, conn.Prepare("INSERT OR IGNORE INTO checkpoint_files("
                                  "uuid, sha256) VALUES (?, ?)"));
    PROXFLOW_RETURN_IF_ERROR(s.Bind(1, c.uuid()).Bind(2, f.sha256()).Run());
  }
  return absl::OkStatus();
}

absl::Status FillAliases(Connection& conn, pb::Checkpoint& c) {
  c.clear_aliases();
  PROXFLOW_ASSIGN_OR_RETURN(
      Statement s, conn.Prepare("SELECT alias FROM aliases WHERE model = ? AND "
                                "version = ? ORDER BY alias"));
  s.Bind(1, c.model()).Bind(2, c.version());
  while (true) {
    PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return absl::OkStatus();
    c.add_aliases(s.ColumnText(0));
  }
}

// Runs `s` (selecting the checkpoint blob in column 0) and returns the first
// row's version with its aliases, or nullopt.
absl::StatusOr<std::optional<pb::Checkpoint>> ReadOne(Connection& conn,
                                                      Statement& s) {
  PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<pb::Checkpoint>();
  PROXFLOW_ASSIGN_OR_RETURN(
      pb::Checkpoint c,
      ParseStored<pb::Checkpoint>(s.ColumnBlob(0), "checkpoint"));
  PROXFLOW_RETURN_IF_ERROR(FillAliases(conn, c));
  return std::optional<pb::Checkpoint>(std::move(c));
}

absl::Status ApplyAlias(Connection& conn, const AliasUpdate& u) {
  int64_t previous = 0;
  {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s, conn.Prepare("SELECT version FROM aliases WHERE model = ? "
                                  "AND alias = ?"));
    PROXFLOW_ASSIGN_OR_RETURN(bool row,
                              s.Bind(1, u.model).Bind(2, u.alias).Step());
    if (row) previous = s.ColumnInt64(0);
  }
  if (previous == u.version) return absl::OkStatus();
  if (u.version == 0) {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s,
        conn.Prepare("DELETE FROM aliases WHERE model = ? AND alias = ?"));
    PROXFLOW_RETURN_IF_ERROR(s.Bind(1, u.model).Bind(2, u.alias).Run());
  } else {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement s, conn.Prepare("INSERT OR REPLACE INTO aliases(model, "
                                  "alias, version) VALUES (?, ?, ?)"));
    PROXFLOW_RETURN_IF_ERROR(
        s.Bind(1, u.model).Bind(2, u.alias).Bind(3, u.version).Run());
  }
  pb::AliasChange change;
  change.set_model(u.model);
  change.set_alias(u.alias);
  change.set_version(u.version);
  change.set_previous_version(previous);
  change.set_actor(u.actor);
  *change.mutable_time() = NowTimestamp();
  PROXFLOW_ASSIGN_OR_RETURN(
      Statement s, conn.Prepare("INSERT INTO alias_history(model, alias, "
                                "change) VALUES (?, ?, ?)"));
  PROXFLOW_RETURN_IF_ERROR(s.Bind(1, u.model)
                               .Bind(2, u.alias)
                               .BindBlob(3, change.SerializeAsString())
                               .Run());
  PROXFLOW_ASSIGN_OR_RETURN(
      Statement t,
      conn.Prepare("UPDATE models SET update_time_us = ? WHERE name = ?"));
  return t.Bind(1, NowMicros()).Bind(2, u.model).Run();
}

absl::StatusOr<pb::Model> ReadModel(Connection& conn, Statement& s) {
  pb::Model m;
  m.set_name(s.ColumnText(0));
  m.set_latest_version(s.ColumnInt64(1));
  *m.mutable_create_time() =
      TimeUtil::MicrosecondsToTimestamp(s.ColumnInt64(2));
  *m.mutable_update_time() =
      TimeUtil::MicrosecondsToTimestamp(s.ColumnInt64(3));
  {
    PROXFLOW_ASSIGN_OR_RETURN(
        Statement q, conn.Prepare("SELECT alias, version FROM aliases WHERE "
                                  "model = ?"));
    q.Bind(1, m.name());
    while (true) {
      PROXFLOW_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      (*m.mutable_aliases())[q.ColumnText(0)] = q.ColumnInt64(1);
    }
  }
  PROXFLOW_ASSIGN_OR_RETURN(
      Statement q, conn.Prepare("SELECT checkpoint FROM checkpoints WHERE "
                                "model = ? AND status = ?"));
  q.Bind(1, m.name()).Bind(2, int64_t{pb::CHECKPOINT_STATUS_READY});
  while (true) {
    PROXFLOW_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    PROXFLOW_ASSIGN_OR_RETURN(
        pb::Checkpoint c,
        ParseStored<pb::Checkpoint>(q.ColumnBlob(0), "checkpoint"));
    m.set_ready_versions(m.ready_versions() + 1);
    m.set_ready_bytes(m.ready_bytes() + c.size_bytes());
  }
  return m;
}

class SqliteRegistryStore : public RegistryStore {
 public:
  explicit SqliteRegistryStore(Database* db) : db_(db) {}

  absl::StatusOr<pb::Checkpoint> Create(pb::Checkpoint c) override {
    PROXFLOW_RETURN_IF_ERROR(db_->Write([&](Connection& conn) -> absl::Status {
      const int64_t now = NowMicros();
      {
        PROXFLOW_ASSIGN_OR_RETURN(
            Statement s,
            conn.Prepare("INSERT INTO models(name, latest_version, "
                         "create_time_us, update_time_us) VALUES (?, 1, ?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET latest_version = "
                         "latest_version + 1, update_time_us = ?"));
        PROXFLOW_RETURN_IF_ERROR(
            s.Bind(1, c.model()).Bind(2, now).Bind(3, now).Bind(4, now).Run());
      }
      PROXFLOW_ASSIGN_OR_RETURN(
          Statement q,
          conn.Prepare("SELECT latest_version FROM models WHERE name = ?"));
      PROXFLOW_ASSIGN_OR_RETURN(bool row, q.Bind(1, c.model()).Step());
      if (!row) return absl::InternalError("model row vanished");
      c.set_version(q.ColumnInt64(0));
      PROXFLOW_ASSIGN_OR_RETURN(
          Statement s,
          conn.Prepare("INSERT INTO checkpoints(uuid, model, version, status, "
                       "job_id, purged, checkpoint) VALUES (?, ?, ?, ?, ?, ?, "
                       "?)"));
      PROXFLOW_RETURN_IF_ERROR(s.Bind(1, c.uuid())
                                   .Bind(2, c.model())
                                   .Bind(3, c.version())
                                   .Bind(4, int64_t{c.status()})
                                   .Bind(5, c.lineage().job_id())
                                   .Bind(6, int64_t{c.purged()})
                                   .BindBlob(7, StoredBytes(c))
                                   .Run());
      return WriteIndexes(conn, c);
    }));
    return c;
  }

  absl::Status Save(const std::vector<pb::Checkpoint>& checkpoints,
                    const std::vector<AliasUpdate>& aliases) override {
    return db_->Write([&](Connection& conn) -> absl::Status {
      for (const pb::Checkpoint& c : checkpoints) {
        PROXFLOW_ASSIGN_OR_RETURN(
            Statement s,
            conn.Prepare("UPDATE checkpoints SET status = ?, purged = ?, "
                         "checkpoint = ? WHERE uuid = ?"));
        PROXFLOW_RETURN_IF_ERROR(s.Bind(1, int64_t{c.status()})
                                     .Bind(2, int64_t{c.purged()})
                                     .BindBlob(3, StoredBytes(c))
                                     .Bind(4, c.uuid())
                                     .Run());
        if (conn.Changes() != 1) {
          return absl::NotFoundError(
              absl::StrCat("checkpoint ", c.uuid(), " not found"));
        }
        PROXFLOW_RETURN_IF_ERROR(WriteIndexes(conn, c));
      }
      for (const AliasUpdate& u : aliases)
        PROXFLOW_RETURN_IF_ERROR(ApplyAlias(conn, u));
      return absl::OkStatus();
    });
  }

  absl::StatusOr<std::optional<pb::Checkpoint>> Get(
      absl::string_view uuid) override {
    std::optional<pb::Checkpoint> out;
    PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& conn) -> absl::Status {
      PROXFLOW_ASSIGN_OR_RETURN(
          Statement s,
          conn.Prepare("SELECT checkpoint FROM checkpoints WHERE uuid = ?"));
      s.Bind(1, uuid);
      PROXFLOW_ASSIGN_OR_RETURN(out, ReadOne(conn, s));
      return absl::OkStatus();
    }));
    return out;
  }

  absl::StatusOr<std::optional<pb::Checkpoint>> GetVersion(
      absl::string_view model, int64_t version) override {
    std::optional<pb::Checkpoint> out;
    PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& conn) -> absl::Status {
      PROXFLOW_ASSIGN_OR_RETURN(
          Statement s, conn.Prepare("SELECT checkpoint FROM checkpoints WHERE "
                                    "model = ? AND version = ?"));
      s.Bind(1, model).Bind(2, version);
      PROXFLOW_ASSIGN_OR_RETURN(out, ReadOne(conn, s));
      return absl::OkStatus();
    }));
    return out;
  }

  absl::StatusOr<int64_t> AliasVersion(absl::string_view model,
                                       absl::string_view alias) override {
    int64_t version = 0;
    PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& conn) -> absl::Status {
      PROXFLOW_ASSIGN_OR_RETURN(
          Statement s, conn.Prepare("SELECT version FROM aliases WHERE model = "
                                    "? AND alias = ?"));
      PROXFLOW_ASSIGN_OR_RETURN(bool row,
                                s.Bind(1, model).Bind(2, alias).Step());
      if (row) version = s.ColumnInt64(0);
      return absl::OkStatus();
    }));
    return version;
  }

  absl::StatusOr<CheckpointPage> List(const CheckpointFilter& filter,
                                      int64_t after, int limit) override {
    std::string sql = "SELECT c.checkpoint, c.seq FROM checkpoints c";
    if (!filter.tag.empty())
      absl::StrAppend(&sql, " JOIN checkpoint_tags t ON t.uuid = c.uuid");
    absl::StrAppend(&sql, " WHERE c.seq > ?");
    if (!filter.tag.empty()) absl::StrAppend(&sql, " AND t.tag = ?");
    if (!filter.model.empty()) absl::StrAppend(&sql, " AND c.model = ?");
    if (!filter.job_id.empty()) absl::StrAppend(&sql, " AND c.job_id = ?");
    if (filter.purged.has_value())
      absl::StrAppend(&sql, " AND c.purged = ", *filter.purged ? 1 : 0);
    if (!filter.statuses.empty()) {
      absl::StrAppend(&sql, " AND c.status IN (",
                      absl::StrJoin(filter.statuses, ",",
                                    [](std::string* out, int s) {
                                      absl::StrAppend(out, s);
                                    }),
                      ")");
    }
    absl::StrAppend(&sql, " ORDER BY c.seq LIMIT ?");
    CheckpointPage page;
    std::vector<int64_t> seqs;
    PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& conn) -> absl::Status {
      PROXFLOW_ASSIGN_OR_RETURN(Statement s, conn.Prepare(sql));
      int i = 1;
      s.Bind(i++, after);
      if (!filter.tag.empty()) s.Bind(i++, filter.tag);
      if (!filter.model.empty()) s.Bind(i++, filter.model);
      if (!filter.job_id.empty()) s.Bind(i++, filter.job_id);
      s.Bind(i++, int64_t{limit} + 1);
      while (true) {
        PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        PROXFLOW_ASSIGN_OR_RETURN(
            pb::Checkpoint c,
            ParseStored<pb::Checkpoint>(s.ColumnBlob(0), "checkpoint"));
        PROXFLOW_RETURN_IF_ERROR(FillAliases(conn, c));
        page.checkpoints.push_back(std::move(c));
        seqs.push_back(s.ColumnInt64(1));
      }
      return absl::OkStatus();
    }));
    if (static_cast<int>(page.checkpoints.size()) > limit) {
      page.checkpoints.pop_back();
      page.next_after = seqs[limit - 1];
    }
    return page;
  }

  absl::StatusOr<ModelPage> ListModels(absl::string_view after,
                                       int limit) override {
    ModelPage page;
    PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& conn) -> absl::Status {
      PROXFLOW_ASSIGN_OR_RETURN(
          Statement s,
          conn.Prepare("SELECT name, latest_version, create_time_us, "
                       "update_time_us FROM models WHERE name > ? ORDER BY "
                       "name LIMIT ?"));
      s.Bind(1, after).Bind(2, int64_t{limit} + 1);
      while (true) {
        PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        PROXFLOW_ASSIGN_OR_RETURN(pb::Model m, ReadModel(conn, s));
        page.models.push_back(std::move(m));
      }
      return absl::OkStatus();
    }));
    if (static_cast<int>(page.models.size()) > limit) {
      page.models.pop_back();
      page.next_after = page.models.back().name();
    }
    return page;
  }

  absl::StatusOr<std::optional<pb::Model>> GetModel(
      absl::string_view name) override {
    std::optional<pb::Model> out;
    PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& conn) -> absl::Status {
      PROXFLOW_ASSIGN_OR_RETURN(
          Statement s,
          conn.Prepare("SELECT name, latest_version, create_time_us, "
                       "update_time_us FROM models WHERE name = ?"));
      PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Bind(1, name).Step());
      if (!row) return absl::OkStatus();
      PROXFLOW_ASSIGN_OR_RETURN(out, ReadModel(conn, s));
      return absl::OkStatus();
    }));
    return out;
  }

  absl::StatusOr<HistoryPage> AliasHistory(absl::string_view model,
                                           absl::string_view alias,
                                           int64_t before, int limit) override {
    HistoryPage page;
    std::vector<int64_t> seqs;
    PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& conn) -> absl::Status {
      PROXFLOW_ASSIGN_OR_RETURN(
          Statement s,
          conn.Prepare(absl::StrCat(
              "SELECT change, seq FROM alias_history WHERE model = ? AND seq "
              "< ?",
              alias.empty() ? "" : " AND alias = ?",
              " ORDER BY seq DESC LIMIT ?")));
      s.Bind(1, model).Bind(2, before > 0 ? before : INT64_MAX);
      int i = 3;
      if (!alias.empty()) s.Bind(i++, alias);
      s.Bind(i, int64_t{limit} + 1);
      while (true) {
        PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        PROXFLOW_ASSIGN_OR_RETURN(
            pb::AliasChange c,
            ParseStored<pb::AliasChange>(s.ColumnBlob(0), "alias change"));
        page.changes.push_back(std::move(c));
        seqs.push_back(s.ColumnInt64(1));
      }
      return absl::OkStatus();
    }));
    if (static_cast<int>(page.changes.size()) > limit) {
      page.changes.pop_back();
      page.next_before = seqs[limit - 1];
    }
    return page;
  }

  absl::StatusOr<std::vector<BlobRef>> BlobRefs() override {
    std::vector<BlobRef> out;
    PROXFLOW_RETURN_IF_ERROR(db_->Read([&](Connection& conn) -> absl::Status {
      PROXFLOW_ASSIGN_OR_RETURN(
          Statement s,
          conn.Prepare("SELECT f.sha256, c.uuid, c.status FROM "
                       "checkpoint_files f JOIN checkpoints c ON c.uuid = "
                       "f.uuid WHERE c.purged = 0"));
      while (true) {
        PROXFLOW_ASSIGN_OR_RETURN(bool row, s.Step());
        if (!row) break;
        out.push_back({s.ColumnText(0), s.ColumnText(1),
                       static_cast<pb::CheckpointStatus>(s.ColumnInt64(2))});
      }
      return absl::OkStatus();
    }));
    return out;
  }

 private:
  Database* const db_;
};

}  // namespace

std::unique_ptr<RegistryStore> CreateSqliteRegistryStore(Database* db) {
  return std::make_unique<SqliteRegistryStore>(db);
}

}  // namespace proxflow::server
