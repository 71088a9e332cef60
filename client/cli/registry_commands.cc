// models list; ckpt
// list|show|alias|unalias|history|pin|tag|rm|download|upload|gc.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/command.h"
#include "client/cli/output.h"
#include "client/registry_client.h"

namespace proxflow::cli {
namespace {

namespace pb = proxflow::v1;

std::string RefOf(const pb::Checkpoint& c) {
  return absl::StrCat(c.model(), "/", c.version());
}

std::string StatusText(pb::CheckpointStatus s) {
  return ShortEnum(pb::CheckpointStatus_Name(s), "CHECKPOINT_STATUS_");
}

std::string SortedMetrics(const google::protobuf::Map<std::string, double>& m) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : m)
    parts.push_back(absl::StrCat(k, "=", MetricText(v)));
  std::sort(parts.begin(), parts.end());
  return absl::StrJoin(parts, " ");
}

int ModelsList(Context& ctx) {
  auto models = client::RegistryClient(ctx.connection).ListModels();
  if (!models.ok()) return Fail(ctx, models.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJsonList<pb::ListModelsResponse>(
        ctx.out, *models, [](auto* r) { return r->mutable_models(); });
    return kExitOk;
  }
  Table table({"MODEL", "LATEST", "READY", "SIZE", "ALIASES", "UPDATED"});
  for (const pb::Model& m : *models) {
    std::vector<std::string> aliases;
    for (const auto& [alias, version] : m.aliases())
      aliases.push_back(absl::StrCat(alias, "=", version));
    std::sort(aliases.begin(), aliases.end());
    table.AddRow({m.name(), absl::StrCat(m.latest_version()),
                  absl::StrCat(m.ready_versions()), HumanBytes(m.ready_bytes()),
                  aliases.empty() ? "-" : absl::StrJoin(aliases, ","),
                  TimeText(m.update_time())});
  }
  table.Print(ctx.out);
  return kExitOk;
}

int List(Context& ctx) {
  client::CheckpointFilter filter;
  if (!ctx.args.positional().empty()) filter.model = ctx.args.positional()[0];
  filter.tag = ctx.args.Get("tag");
  filter.job_id = ctx.args.Get("job");
  for (const std::string& s : ctx.args.GetAll("status")) {
    pb::CheckpointStatus status;
    const std::string upper = absl::AsciiStrToUpper(s);
    if (!pb::CheckpointStatus_Parse(upper, &status) &&
        !pb::CheckpointStatus_Parse("CHECKPOINT_STATUS_" + upper, &status)) {
      return Fail(ctx, absl::InvalidArgumentError(absl::StrCat(
                           "--status must be one of pending, ready, failed, "
                           "deleted; got \"",
                           s, "\"")));
    }
    filter.statuses.push_back(status);
  }
  auto checkpoints =
      client::RegistryClient(ctx.connection).ListCheckpoints(filter);
  if (!checkpoints.ok()) return Fail(ctx, checkpoints.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJsonList<pb::ListCheckpointsResponse>(
        ctx.out, *checkpoints,
        [](auto* r) { return r->mutable_checkpoints(); });
    return kExitOk;
  }
  Table table({"REF", "STATUS", "STEP", "SIZE", "ALIASES", "TAGS", "PINNED",
               "CREATED"});
  for (const pb::Checkpoint& c : *checkpoints) {
    table.AddRow({RefOf(c), StatusText(c.status()),
                  absl::StrCat(c.lineage().step()), HumanBytes(c.size_bytes()),
                  c.aliases().empty() ? "-" : absl::StrJoin(c.aliases(), ","),
                  c.tags().empty() ? "-" : absl::StrJoin(c.tags(), ","),
                  c.pinned() ? "yes" : "-", TimeText(c.create_time())});
  }
  table.Print(ctx.out);
  return kExitOk;
}

void PrintCheckpoint(Context& ctx, const pb::Checkpoint& c) {
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, c);
    return;
  }
  const auto row = [&](const std::string& k, const std::string& v) {
    ctx.out << k << std::string(k.size() < 14 ? 14 - k.size() : 1, ' ') << v
            << "\n";
  };
  row("ref", RefOf(c));
  row("uuid", c.uuid());
  row("status", absl::StrCat(StatusText(c.status()),
                             c.status_reason().empty()
                                 ? ""
                                 : absl::StrCat(" (", c.status_reason(), ")")));
  row("source",
      ShortEnum(pb::CheckpointSource_Name(c.source()), "CHECKPOINT_SOURCE_"));
  row("size", HumanBytes(c.size_bytes()));
  for (const pb::CheckpointFile& f : c.files())
    row("file", absl::StrCat(f.name(), " sha256 ", f.sha256()));
  row("aliases", c.aliases().empty() ? "-" : absl::StrJoin(c.aliases(), ", "));
  row("tags", c.tags().empty() ? "-" : absl::StrJoin(c.tags(), ", "));
  row("pinned", c.pinned() ? "yes" : "no");
  if (!c.lineage().job_id().empty()) {
    row("job",
        absl::StrCat(c.lineage().job_id(), " attempt ", c.lineage().attempt(),
                     " step ", c.lineage().step()));
  }
  if (!c.lineage().parent_uuid().empty())
    row("parent", c.lineage().parent_uuid());
  if (!c.metrics().empty())
    row(absl::StrCat("metrics@", c.metrics_step()), SortedMetrics(c.metrics()));
  row("build",
      absl::StrCat("proxflow ", c.build().proxflow_version(), ", libtorch ",
                   c.build().libtorch_version(), ", ", c.build().device()));
  row("created", TimeText(c.create_time()));
  if (!c.description().empty()) row("description", c.description());
}

int Show(Context& ctx) {
  auto c = client::RegistryClient(ctx.connection).Get(ctx.args.positional()[0]);
  if (!c.ok()) return Fail(ctx, c.status());
  PrintCheckpoint(ctx, *c);
  return kExitOk;
}

int Alias(Context& ctx) {
  client::RegistryClient registry(ctx.connection);
  const std::string ref = ctx.args.positional()[0];
  const std::string alias = ctx.args.positional()[1];
  // The ref may be a uuid: the model comes from the version it names.
  auto c = registry.Get(ref);
  if (!c.ok()) return Fail(ctx, c.status());
  auto set = registry.SetAlias(c->model(), alias, c->uuid());
  if (!set.ok()) return Fail(ctx, set.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, *set);
  } else {
    ctx.out << c->model() << "@" << alias << " -> " << RefOf(set->checkpoint())
            << (set->previous_version() > 0
                    ? absl::StrCat(" (was ", c->model(), "/",
                                   set->previous_version(), ")")
                    : "")
            << "\n";
  }
  return kExitOk;
}

int Unalias(Context& ctx) {
  const std::string model = ctx.args.positional()[0];
  const std::string alias = ctx.args.positional()[1];
  auto deleted =
      client::RegistryClient(ctx.connection).DeleteAlias(model, alias);
  if (!deleted.ok()) return Fail(ctx, deleted.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, *deleted);
  } else {
    ctx.out << "removed " << model << "@" << alias << " (was " << model << "/"
            << deleted->previous_version() << ")\n";
  }
  return kExitOk;
}

int History(Context& ctx) {
  auto changes =
      client::RegistryClient(ctx.connection)
          .AliasHistory(ctx.args.positional()[0], ctx.args.Get("alias"));
  if (!changes.ok()) return Fail(ctx, changes.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJsonList<pb::ListAliasHistoryResponse>(
        ctx.out, *changes, [](auto* r) { return r->mutable_changes(); });
    return kExitOk;
  }
  Table table({"TIME", "ALIAS", "FROM", "TO", "ACTOR"});
  for (const pb::AliasChange& c : *changes) {
    table.AddRow(
        {TimeText(c.time()), c.alias(),
         c.previous_version() > 0 ? absl::StrCat(c.previous_version()) : "-",
         c.version() > 0 ? absl::StrCat(c.version()) : "(removed)", c.actor()});
  }
  table.Print(ctx.out);
  return kExitOk;
}

int Pin(Context& ctx) {
  auto c = client::RegistryClient(ctx.connection)
               .Update(ctx.args.positional()[0], std::nullopt,
                       !ctx.args.Has("unpin"));
  if (!c.ok()) return Fail(ctx, c.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, *c);
  } else {
    ctx.out << RefOf(*c)
            << (c->pinned() ? " pinned (retention keeps it)\n" : " unpinned\n");
  }
  return kExitOk;
}

int Tag(Context& ctx) {
  std::vector<std::string> tags(ctx.args.positional().begin() + 1,
                                ctx.args.positional().end());
  auto c = client::RegistryClient(ctx.connection)
               .Update(ctx.args.positional()[0], tags, std::nullopt);
  if (!c.ok()) return Fail(ctx, c.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, *c);
  } else {
    ctx.out << RefOf(*c) << " tags: "
            << (c->tags().empty() ? "(none)" : absl::StrJoin(c->tags(), ", "))
            << "\n";
  }
  return kExitOk;
}

int Remove(Context& ctx) {
  auto c = client::RegistryClient(ctx.connection)
               .Delete(ctx.args.positional()[0], ctx.args.Get("reason"));
  if (!c.ok()) return Fail(ctx, c.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, *c);
  } else {
    ctx.out << RefOf(*c) << " " << StatusText(c->status())
            << " (kept for audit; `proxflow ckpt gc` frees its file)\n";
  }
  return kExitOk;
}

int Download(Context& ctx) {
  client::RegistryClient registry(ctx.connection);
  const std::string ref = ctx.args.positional()[0];
  std::string out = ctx.args.Get("out");
  if (out.empty()) {
    auto c = registry.Get(ref);
    if (!c.ok()) return Fail(ctx, c.status());
    out = absl::StrCat(c->model(), "-v", c->version(), ".pxf");
  }
  auto result = registry.Download(ref, out);
  if (!result.ok()) return Fail(ctx, result.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, result->checkpoint);
  } else {
    ctx.out << "downloaded " << RefOf(result->checkpoint) << " to " << out
            << " (" << HumanBytes(result->checkpoint.size_bytes())
            << ", sha256 verified"
            << (result->resumed_from > 0
                    ? absl::StrCat(", resumed at byte ", result->resumed_from)
                    : "")
            << ")\n";
  }
  return kExitOk;
}

int Upload(Context& ctx) {
  auto source = client::FileChunks(ctx.args.positional()[0]);
  if (!source.ok()) return Fail(ctx, source.status());
  client::UploadInfo info;
  info.model = ctx.args.Get("model");
  info.tags = ctx.args.GetAll("tag");
  info.description = ctx.args.Get("description");
  info.parent = ctx.args.Get("parent");
  auto c = client::RegistryClient(ctx.connection).Upload(info, **source);
  if (!c.ok()) return Fail(ctx, c.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, *c);
  } else {
    ctx.out << "uploaded " << RefOf(*c) << " (" << HumanBytes(c->size_bytes())
            << ", uuid " << c->uuid() << ")\n";
  }
  return kExitOk;
}

int Gc(Context& ctx) {
  const bool dry_run = ctx.args.Has("dry_run");
  auto plan = client::RegistryClient(ctx.connection)
                  .Gc(ctx.args.Get("model"), !dry_run);
  if (!plan.ok()) return Fail(ctx, plan.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, *plan);
    return kExitOk;
  }
  Table table({"ACTION", "WHAT", "SIZE"});
  for (const pb::Checkpoint& c : plan->expire())
    table.AddRow({dry_run ? "would expire" : "expired", RefOf(c),
                  HumanBytes(c.size_bytes())});
  for (const pb::Checkpoint& c : plan->purge())
    table.AddRow({dry_run ? "would purge" : "purged", RefOf(c),
                  HumanBytes(c.size_bytes())});
  for (const std::string& b : plan->orphan_blobs())
    table.AddRow({dry_run ? "would remove orphan" : "removed orphan", b, "-"});
  table.Print(ctx.out);
  ctx.out << (dry_run ? "would reclaim " : "reclaimed ")
          << HumanBytes(plan->reclaimed_bytes()) << "\n";
  return kExitOk;
}

}  // namespace

std::vector<Command> RegistryCommands() {
  const std::string refs =
      "REF is model/7 (a version), model@alias (latest, best, prod, ...) or a "
      "uuid.";
  return {
      {{"models list",
        "",
        0,
        0,
        "List registry models with their aliases.",
        "",
        {}},
       ModelsList},
      {{"ckpt list",
        "[MODEL]",
        0,
        1,
        "List checkpoint versions (all models, or one).",
        "",
        {{"status", "STATUS",
          "only versions in this status (ready, failed, ...)", 0, true},
         {"tag", "TAG", "only versions with this tag"},
         {"job", "JOB_ID", "only versions saved by this job"}}},
       List},
      {{"ckpt show",
        "REF",
        1,
        1,
        "Show one version: lineage, metrics, files.",
        refs,
        {}},
       Show},
      {{"ckpt alias",
        "REF ALIAS",
        2,
        2,
        "Point MODEL@ALIAS at a version.",
        refs,
        {}},
       Alias},
      {{"ckpt unalias", "MODEL ALIAS", 2, 2, "Remove an alias.", "", {}},
       Unalias},
      {{"ckpt history",
        "MODEL",
        1,
        1,
        "Every alias move of a model, with its actor.",
        "",
        {{"alias", "ALIAS", "only this alias"}}},
       History},
      {{"ckpt pin",
        "REF",
        1,
        1,
        "Pin a version (retention never removes it).",
        refs,
        {{"unpin", "", "remove the pin instead"}}},
       Pin},
      {{"ckpt tag",
        "REF [TAG...]",
        1,
        64,
        "Replace a version's tags (none: clear them).",
        refs,
        {}},
       Tag},
      {{"ckpt rm",
        "REF",
        1,
        1,
        "Delete a version (soft: kept for audit until gc).",
        refs,
        {{"reason", "TEXT", "why, recorded with the version"}}},
       Remove},
      {{"ckpt download",
        "REF",
        1,
        1,
        "Download a version's file, verified by sha256.",
        refs + "\nAn interrupted download resumes where it stopped when run "
               "again.",
        {{"out", "FILE", "destination (default: MODEL-vVERSION.pxf)", 'o'}}},
       Download},
      {{"ckpt upload",
        "FILE",
        1,
        1,
        "Upload a checkpoint file as a new version.",
        "",
        {{"model", "NAME", "registry model to add the version to"},
         {"tag", "TAG", "tag of the new version", 0, true},
         {"description", "TEXT", "free text kept with the version"},
         {"parent", "REF", "the version it descends from"}}},
       Upload},
      {{"ckpt gc",
        "",
        0,
        0,
        "Apply retention and free unused files.",
        "Expires versions beyond each job's keep_latest/keep_best (never "
        "aliased or\n"
        "pinned ones), purges files of FAILED/DELETED versions and orphan "
        "blobs.",
        {{"model", "NAME", "only this model"},
         {"dry_run", "", "show what would happen; change nothing"}}},
       Gc},
  };
}

}  // namespace proxflow::cli
