// datasets upload|list|get|rm.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/cli/command.h"
#include "client/cli/output.h"
#include "client/dataset_client.h"

namespace proxflow::cli {
namespace {

namespace pb = proxflow::v1;

absl::StatusOr<pb::DatasetFormat> FormatOf(const std::string& flag,
                                           const std::string& path) {
  const std::string f = absl::AsciiStrToLower(flag);
  if (f == "idx") return pb::DATASET_FORMAT_IDX;
  if (f == "float32") return pb::DATASET_FORMAT_FLOAT32_ARRAY;
  if (!f.empty() && f != "auto") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--format must be idx, float32 or auto, got \"", flag, "\""));
  }
  // auto: a PXFA float32 array starts with its magic; anything else is IDX.
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return std::string(magic, 4) == "PXFA" ? pb::DATASET_FORMAT_FLOAT32_ARRAY
                                         : pb::DATASET_FORMAT_IDX;
}

int Upload(Context& ctx) {
  const std::string path = ctx.args.positional()[0];
  absl::StatusOr<pb::DatasetFormat> format =
      FormatOf(ctx.args.Get("format"), path);
  if (!format.ok()) return Fail(ctx, format.status());
  absl::StatusOr<std::unique_ptr<client::ChunkSource>> source =
      client::FileChunks(path);
  if (!source.ok()) return Fail(ctx, source.status());
  const std::string name =
      ctx.args.Get("name", std::filesystem::path(path).stem().string());
  absl::StatusOr<pb::Dataset> dataset =
      client::DatasetClient(ctx.connection)
          .Upload(name, *format, **source, ctx.args.Get("description"));
  if (!dataset.ok()) return Fail(ctx, dataset.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, *dataset);
  } else {
    ctx.out << "uploaded dataset " << dataset->name() << ": " << dataset->rows()
            << " rows of dimension " << dataset->dimension() << " ("
            << HumanBytes(dataset->size_bytes()) << ", sha256 "
            << dataset->sha256().substr(0, 12) << ")\n";
  }
  return kExitOk;
}

int List(Context& ctx) {
  auto datasets = client::DatasetClient(ctx.connection).List();
  if (!datasets.ok()) return Fail(ctx, datasets.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJsonList<pb::ListDatasetsResponse>(
        ctx.out, *datasets, [](auto* r) { return r->mutable_datasets(); });
    return kExitOk;
  }
  Table table({"NAME", "FORMAT", "ROWS", "DIMENSION", "SIZE", "CREATED"});
  for (const pb::Dataset& d : *datasets) {
    table.AddRow(
        {d.name(),
         ShortEnum(pb::DatasetFormat_Name(d.format()), "DATASET_FORMAT_"),
         absl::StrCat(d.rows()), absl::StrCat(d.dimension()),
         HumanBytes(d.size_bytes()), TimeText(d.create_time())});
  }
  table.Print(ctx.out);
  return kExitOk;
}

int Get(Context& ctx) {
  auto d = client::DatasetClient(ctx.connection).Get(ctx.args.positional()[0]);
  if (!d.ok()) return Fail(ctx, d.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, *d);
  } else {
    ctx.out << "name         " << d->name() << "\nformat       "
            << ShortEnum(pb::DatasetFormat_Name(d->format()), "DATASET_FORMAT_")
            << "\nrows         " << d->rows() << "\ndimension    "
            << d->dimension() << "\nsize         "
            << HumanBytes(d->size_bytes()) << "\nsha256       " << d->sha256()
            << "\ncreated      " << TimeText(d->create_time()) << "\n";
    if (!d->description().empty())
      ctx.out << "description  " << d->description() << "\n";
  }
  return kExitOk;
}

int Remove(Context& ctx) {
  const std::string name = ctx.args.positional()[0];
  if (absl::Status s = client::DatasetClient(ctx.connection).Delete(name);
      !s.ok()) {
    return Fail(ctx, s);
  }
  if (ctx.format == OutputFormat::kText)
    ctx.out << "deleted dataset " << name << "\n";
  return kExitOk;
}

}  // namespace

std::vector<Command> DatasetCommands() {
  return {
      {{"datasets upload",
        "FILE",
        1,
        1,
        "Upload a dataset (raw IDX or a PXFA float32 array).",
        "Jobs train on it with dataset.kind: DATASET_KIND_UPLOADED and\n"
        "dataset.uploaded_name: NAME. The file streams in 1 MiB chunks; the "
        "server\n"
        "checks its sha256 and size.",
        {{"name", "NAME",
          "dataset name (default: the file name without extension)"},
         {"format", "FORMAT",
          "idx, float32 or auto (default: by the file's magic)"},
         {"description", "TEXT", "free text kept with the dataset"}}},
       Upload},
      {{"datasets list", "", 0, 0, "List uploaded datasets.", "", {}}, List},
      {{"datasets get", "NAME", 1, 1, "Show one dataset.", "", {}}, Get},
      {{"datasets rm", "NAME", 1, 1, "Delete a dataset.", "", {}}, Remove},
  };
}

}  // namespace proxflow::cli
