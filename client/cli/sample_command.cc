// sample MODEL_REF -n N --out DIR [--grid FILE.png] ...
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/command.h"
#include "client/cli/output.h"
#include "client/sampling_client.h"
#include "core/base/file_util.h"
#include "core/base/status_macros.h"
#include "core/image/grid.h"
#include "core/image/png.h"
#include "core/image/scatter_plot.h"

namespace proxflow::cli {
namespace {

namespace pb = proxflow::v1;

absl::StatusOr<pb::Solver> ParseSolver(const std::string& text) {
  const std::string upper = absl::AsciiStrToUpper(text);
  pb::Solver solver;
  if (pb::Solver_Parse(upper, &solver) ||
      pb::Solver_Parse("SOLVER_" + upper, &solver))
    return solver;
  return absl::InvalidArgumentError(absl::StrCat(
      "--solver must be euler, heun, midpoint or rk4, got \"", text, "\""));
}

absl::StatusOr<pb::SampleEncoding> ParseEncoding(const std::string& text) {
  const std::string upper = absl::AsciiStrToUpper(text);
  pb::SampleEncoding encoding;
  if (pb::SampleEncoding_Parse("SAMPLE_ENCODING_" + upper, &encoding) &&
      encoding != pb::SAMPLE_ENCODING_UNSPECIFIED) {
    return encoding;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--encoding must be png, uint8 or float32, got \"", text, "\""));
}

absl::Status WriteFile(const std::filesystem::path& path,
                       const std::string& bytes) {
  return WriteFileAtomically(path.string(), bytes);
}

std::vector<float> Floats(const std::string& bytes) {
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

// Collects the streamed items and writes them out as they arrive (images) or
// at the end (point tables, grid, scatter plot).
class SampleWriter {
 public:
  SampleWriter(std::filesystem::path dir, std::string grid)
      : dir_(std::move(dir)), grid_(std::move(grid)) {}

  void Accept(const pb::SampleAccepted& a) { accepted_ = a; }

  // Items of the next request are numbered after those of the previous ones.
  void SetIndexOffset(int offset) { offset_ = offset; }

  absl::Status Item(client::SampleItemData item) {
    pb::ImageDone& d = item.done;
    d.mutable_item()->set_index(d.item().index() + offset_);
    const bool frame = d.item().kind() == pb::SAMPLE_ITEM_KIND_TRAJECTORY_FRAME;
    if (d.item().kind() == pb::SAMPLE_ITEM_KIND_SCATTER_PLOT)
      return absl::OkStatus();
    if (d.shape_size() == 1 ||
        (d.shape_size() == 2 && accepted_.sample_shape_size() == 1)) {
      // A block of points: rows × dimension float32.
      const std::vector<float> v = Floats(item.bytes);
      const int64_t dim = d.shape(d.shape_size() - 1);
      auto& table = frame ? frames_[d.item().step()] : points_;
      for (int64_t r = 0; r * dim < static_cast<int64_t>(v.size()); ++r) {
        Row row;
        row.index = d.item().index() + static_cast<int>(r);
        row.seed = r < d.seeds_size() ? d.seeds(static_cast<int>(r)) : 0;
        row.values.assign(v.begin() + r * dim, v.begin() + (r + 1) * dim);
        table[row.index] = std::move(row);
      }
      dimension_ = dim;
      return absl::OkStatus();
    }
    // One image.
    const int h = static_cast<int>(d.shape(0)),
              w = static_cast<int>(d.shape(1));
    const char* ext = d.encoding() == pb::SAMPLE_ENCODING_PNG     ? "png"
                      : d.encoding() == pb::SAMPLE_ENCODING_UINT8 ? "u8"
                                                                  : "f32";
    const std::string name =
        frame ? absl::StrFormat("trajectory/sample_%04d_step_%04d.%s",
                                d.item().index(), d.item().step(), ext)
              : absl::StrFormat("sample_%04d.%s", d.item().index(), ext);
    if (frame) std::filesystem::create_directories(dir_ / "trajectory");
    if (absl::Status s = WriteFile(dir_ / name, item.bytes); !s.ok()) return s;
    ++files_;
    if (frame) return absl::OkStatus();
    manifest_ +=
        absl::StrCat(d.item().index(), ",", d.seeds_size() > 0 ? d.seeds(0) : 0,
                     ",", name, ",", d.sha256(), "\n");
    if (grid_.empty()) return absl::OkStatus();
    std::vector<uint8_t> pixels;
    if (d.encoding() == pb::SAMPLE_ENCODING_PNG) {
      absl::StatusOr<image::DecodedImage> decoded =
          image::DecodePng(item.bytes);
      if (!decoded.ok()) return decoded.status();
      pixels = std::move(decoded->pixels);
    } else if (d.encoding() == pb::SAMPLE_ENCODING_UINT8) {
      pixels.assign(item.bytes.begin(), item.bytes.end());
    } else {
      for (float x : Floats(item.bytes))
        pixels.push_back(image::QuantizePixel(x));
    }
    images_[d.item().index()] = std::move(pixels);
    width_ = w;
    height_ = h;
    return absl::OkStatus();
  }

  // Writes the tables, grid or scatter plot; returns what was written.
  absl::StatusOr<std::string> Finish() {
    std::string written;
    if (!manifest_.empty()) {
      PROXFLOW_RETURN_IF_ERROR(WriteFile(
          dir_ / "samples.csv", "index,seed,file,sha256\n" + manifest_));
      written =
          absl::StrCat(files_, " images and samples.csv in ", dir_.string());
    }
    if (!images_.empty()) {
      std::vector<std::vector<uint8_t>> tiles;
      for (auto& [index, pixels] : images_) tiles.push_back(pixels);
      absl::StatusOr<std::string> png =
          image::TileGrayGrid(tiles, width_, height_);
      if (!png.ok()) return png.status();
      PROXFLOW_RETURN_IF_ERROR(WriteFile(grid_, *png));
      absl::StrAppend(&written, "; grid ", grid_);
    }
    if (!points_.empty()) {
      PROXFLOW_RETURN_IF_ERROR(
          WriteFile(dir_ / "points.csv", Csv(points_, false)));
      if (!frames_.empty()) {
        std::string all;
        for (auto& [step, rows] : frames_)
          all += Csv(rows, true, step, all.empty());
        PROXFLOW_RETURN_IF_ERROR(WriteFile(dir_ / "trajectory.csv", all));
      }
      image::PointSeries series;
      for (auto& [index, row] : points_) {
        series.xy.push_back(row.values[0]);
        series.xy.push_back(dimension_ > 1 ? row.values[1] : 0.0f);
      }
      absl::StatusOr<std::string> png = image::RenderScatterPng({series}, {});
      if (!png.ok()) return png.status();
      const std::filesystem::path plot =
          grid_.empty() ? dir_ / "scatter.png" : std::filesystem::path(grid_);
      PROXFLOW_RETURN_IF_ERROR(WriteFile(plot, *png));
      written = absl::StrCat(points_.size(), " points in ",
                             (dir_ / "points.csv").string(),
                             frames_.empty() ? "" : " (trajectory.csv)",
                             "; scatter plot ", plot.string());
    }
    return written;
  }

 private:
  struct Row {
    int index = 0;
    uint64_t seed = 0;
    std::vector<float> values;
  };

  std::string Csv(const std::map<int, Row>& rows, bool with_step, int step = 0,
                  bool header = true) const {
    std::string out;
    if (header) {
      out = with_step ? "step,index,seed" : "index,seed";
      for (int64_t j = 0; j < dimension_; ++j) absl::StrAppend(&out, ",x", j);
      out += "\n";
    }
    for (const auto& [index, row] : rows) {
      if (with_step) absl::StrAppend(&out, step, ",");
      absl::StrAppend(&out, index, ",", row.seed);
      for (float x : row.values)
        absl::StrAppend(&out, ",", absl::StrFormat("%.9g", x));
      out += "\n";
    }
    return out;
  }

  const std::filesystem::path dir_;
  const std::string grid_;
  pb::SampleAccepted accepted_;
  std::map<int, std::vector<uint8_t>> images_;
  std::map<int, Row> points_;
  std::map<int, std::map<int, Row>> frames_;  // step → rows
  std::string manifest_;
  int files_ = 0;
  int offset_ = 0;
  int width_ = 0, height_ = 0;
  int64_t dimension_ = 0;
};

absl::StatusOr<pb::SampleRequest> BuildRequest(const Args& args) {
  pb::SampleRequest r;
  r.set_model_ref(args.positional()[0]);
  PROXFLOW_ASSIGN_OR_RETURN(int64_t n,
                            args.GetInt("num_samples", 16, 1, 1 << 20));
  r.set_num_samples(static_cast<int32_t>(n));
  if (args.Has("seed")) {
    PROXFLOW_ASSIGN_OR_RETURN(
        int64_t seed,
        args.GetInt("seed", 0, 0, std::numeric_limits<int64_t>::max()));
    for (int64_t i = 0; i < n; ++i)
      r.add_seeds(static_cast<uint64_t>(seed + i));
  }
  if (args.Has("solver")) {
    PROXFLOW_ASSIGN_OR_RETURN(pb::Solver solver,
                              ParseSolver(args.Get("solver")));
    r.set_solver(solver);
  }
  PROXFLOW_ASSIGN_OR_RETURN(int64_t steps, args.GetInt("steps", 0, 1, 1 << 20));
  r.set_steps(static_cast<int32_t>(steps));
  PROXFLOW_ASSIGN_OR_RETURN(double dt, args.GetDouble("dt", 0));
  r.set_dt(dt);
  if (args.Has("encoding")) {
    PROXFLOW_ASSIGN_OR_RETURN(pb::SampleEncoding e,
                              ParseEncoding(args.Get("encoding")));
    r.set_encoding(e);
  }
  PROXFLOW_ASSIGN_OR_RETURN(int64_t every,
                            args.GetInt("trajectory_every", 0, 1, 1 << 20));
  r.set_trajectory_every(static_cast<int32_t>(every));
  return r;
}

int Sample(Context& ctx) {
  absl::StatusOr<pb::SampleRequest> request = BuildRequest(ctx.args);
  if (!request.ok()) return Fail(ctx, request.status());
  if (!ctx.args.Has("out")) {
    return Fail(ctx,
                absl::InvalidArgumentError(
                    "sample needs --out DIR (see proxflow sample --help)"));
  }
  const std::filesystem::path dir = ctx.args.Get("out");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Fail(ctx, absl::InvalidArgumentError(
                         absl::StrCat("--out \"", dir.string(),
                                      "\" cannot be created: ", ec.message())));
  }
  SampleWriter writer(dir, ctx.args.Get("grid"));
  client::SampleHandlers handlers;
  bool announced = false;  // one line for all the requests of a large -n
  handlers.on_accepted = [&](const pb::SampleAccepted& a) {
    writer.Accept(a);
    if (ctx.format == OutputFormat::kText && !announced) {
      announced = true;
      ctx.out << "sampling " << a.model() << "/" << a.version() << ": "
              << request->num_samples() << " samples, "
              << ShortEnum(pb::Solver_Name(a.solver()), "SOLVER_") << " "
              << a.steps() << " steps (dt " << a.dt() << ") on " << a.device()
              << (request->seeds_size() > 0
                      ? absl::StrCat(", seeds ", request->seeds(0), "..",
                                     request->seeds(request->seeds_size() - 1))
                      : "")
              << "\n";
    }
  };
  handlers.on_progress = [&](const pb::SampleProgress& p) {
    if (ctx.tty && ctx.format == OutputFormat::kText) {
      ctx.out << "\r\033[Kstep " << p.step() << "/" << p.steps() << "  "
              << p.samples_done() << " samples done";
      ctx.out.flush();
    }
  };
  handlers.on_item = [&](client::SampleItemData item) {
    return writer.Item(std::move(item));
  };
  // Large -n runs as consecutive requests of at most --per_request samples.
  absl::StatusOr<int64_t> per_request =
      ctx.args.GetInt("per_request", 256, 1, 1 << 20);
  if (!per_request.ok()) return Fail(ctx, per_request.status());
  client::SamplingClient sampler(ctx.connection);
  pb::SampleSummary total;
  const int n = request->num_samples();
  for (int first = 0; first < n; first += static_cast<int>(*per_request)) {
    pb::SampleRequest part = *request;
    const int count = std::min<int>(static_cast<int>(*per_request), n - first);
    part.set_num_samples(count);
    part.clear_seeds();
    for (int i = 0; i < count && first + i < request->seeds_size(); ++i)
      part.add_seeds(request->seeds(first + i));
    writer.SetIndexOffset(first);
    absl::StatusOr<pb::SampleSummary> summary = sampler.Sample(part, handlers);
    if (ctx.tty && ctx.format == OutputFormat::kText) ctx.out << "\r\033[K";
    if (!summary.ok()) return Fail(ctx, summary.status());
    total.set_queue_seconds(total.queue_seconds() + summary->queue_seconds());
    total.set_load_seconds(total.load_seconds() + summary->load_seconds());
    total.set_compute_seconds(total.compute_seconds() +
                              summary->compute_seconds());
    total.set_encode_seconds(total.encode_seconds() +
                             summary->encode_seconds());
    total.set_batch_size(std::max(total.batch_size(), summary->batch_size()));
    total.set_batches(total.batches() + summary->batches());
    total.set_items(total.items() + summary->items());
    total.set_bytes(total.bytes() + summary->bytes());
  }
  const pb::SampleSummary* summary = &total;
  absl::StatusOr<std::string> written = writer.Finish();
  if (!written.ok()) return Fail(ctx, written.status());
  if (ctx.format == OutputFormat::kJson) {
    PrintJson(ctx.out, *summary);
  } else {
    ctx.out << "wrote " << *written << " (queue "
            << MetricText(summary->queue_seconds()) << " s, compute "
            << MetricText(summary->compute_seconds()) << " s, batch "
            << summary->batch_size() << ")\n";
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> SampleCommands() {
  return {
      {{"sample",
        "MODEL_REF",
        1,
        1,
        "Generate samples from a registry version.",
        "MODEL_REF is model/7, model@alias (latest, best, ...) or a uuid.\n"
        "Image models: one PNG per sample (sample_0000.png ...) and "
        "samples.csv (index,\n"
        "seed, file, sha256); --grid FILE.png tiles them. Point models: "
        "points.csv and a\n"
        "scatter plot (--grid FILE.png, default DIR/scatter.png). Seeds picked "
        "by the\n"
        "server are in the CSV; --seed S uses S, S+1, ... and the same seed "
        "always gives\n"
        "the same sample.",
        {{"num_samples", "N", "how many samples (default 16; any number)", 'n'},
         {"out", "DIR", "directory for the files (created if missing)", 'o'},
         {"grid", "FILE.png",
          "a tiled grid of the images (scatter plot for points)"},
         {"seed", "S", "seeds S, S+1, ..., S+N-1 (default: the server picks)"},
         {"steps", "K", "integration steps (default: the training's)"},
         {"dt", "DT", "step size instead of --steps (must divide the horizon)"},
         {"solver", "NAME",
          "euler, heun, midpoint or rk4 (default: the training's)"},
         {"encoding", "ENC", "png (images' default), uint8 or float32"},
         {"trajectory_every", "K", "also save the state every K steps"},
         {"per_request", "M",
          "samples per request; larger -n runs as several (default 256)"}}},
       Sample},
  };
}

}  // namespace proxflow::cli
