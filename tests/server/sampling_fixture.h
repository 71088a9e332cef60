// SamplingTest: a server with fake training and sampling backends, models
// uploaded as fake checkpoints, and a client that reads a whole Sample stream
// into its parts.
#ifndef PROXFLOW_TESTS_SERVER_SAMPLING_FIXTURE_H_
#define PROXFLOW_TESTS_SERVER_SAMPLING_FIXTURE_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/server/registry_fixture.h"

namespace proxflow::server::testing {

class SamplingTest : public RegistryTest {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    options_.sampling.max_delay = absl::ZeroDuration();
    options_.sampling.progress_interval = absl::ZeroDuration();  // every step
    options_.sample_limits.max_samples = 64;
    options_.sample_limits.max_steps = 50;
    options_.sample_limits.max_trajectory_frames = 4;
    // Tests start the server after adjusting options_ (StartServer()).
  }

  // Uploads a fake checkpoint of `preset` as `model` and returns its version.
  pb::Checkpoint UploadModel(const std::string& model,
                             const std::string& preset) {
    pb::TrainingConfig config;
    config.set_preset(preset);
    if (preset == "mnist") config.mutable_dataset()->set_mnist_dir("/mnist");
    const std::string bytes =
        absl::StrCat("fake-ckpt:10\n", config.SerializeAsString());
    pb::Checkpoint out;
    grpc::Status s = Upload(Header(model, bytes), bytes, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // A Sample stream, read to its end, in parts.
 public:
  struct Streamed {
    grpc::Status status;
    std::vector<pb::SampleEvent> events;
    pb::SampleAccepted accepted;
    pb::SampleSummary summary;
    std::vector<pb::ImageDone> done;
    // Bytes of each item, keyed by (kind, index, step), from its chunks.
    std::map<std::tuple<int, int, int>, std::string> bytes;
    int64_t max_chunk = 0;
    std::vector<pb::SampleProgress> progress;
  };

  static Streamed Read(grpc::ClientReaderInterface<pb::SampleEvent>& reader) {
    Streamed out;
    pb::SampleEvent e;
    while (reader.Read(&e)) {
      out.events.push_back(e);
      if (e.has_accepted()) out.accepted = e.accepted();
      if (e.has_summary()) out.summary = e.summary();
      if (e.has_progress()) out.progress.push_back(e.progress());
      if (e.has_image_done()) out.done.push_back(e.image_done());
      if (e.has_image_chunk()) {
        const pb::SampleItem& i = e.image_chunk().item();
        std::string& b = out.bytes[{i.kind(), i.index(), i.step()}];
        EXPECT_EQ(e.image_chunk().offset(), static_cast<int64_t>(b.size()));
        b += e.image_chunk().data();
        out.max_chunk = std::max<int64_t>(
            out.max_chunk, static_cast<int64_t>(e.image_chunk().data().size()));
      }
    }
    out.status = reader.Finish();
    return out;
  }

 protected:
  Streamed Sample(const pb::SampleRequest& request, int deadline_s = 60) {
    grpc::ClientContext context;
    context.set_deadline(Deadline(deadline_s));
    auto reader = sampling_->Sample(&context, request);
    return Read(*reader);
  }

  static pb::SampleRequest Request(const std::string& ref,
                                   std::vector<uint64_t> seeds) {
    pb::SampleRequest r;
    r.set_model_ref(ref);
    for (uint64_t s : seeds) r.add_seeds(s);
    return r;
  }

  // The bytes of an item.
  static const std::string& ItemBytes(const Streamed& s,
                                      const pb::SampleItem& item) {
    return s.bytes.at({item.kind(), item.index(), item.step()});
  }

  // Waits (bounded) until the engine has no active request.
  bool AwaitEngineIdle() {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      if (server_->sampler().counters().active == 0) return true;
      absl::SleepFor(absl::Milliseconds(2));  // polls a state, not a timing
    }
    return false;
  }
};

}  // namespace proxflow::server::testing

#endif  // PROXFLOW_TESTS_SERVER_SAMPLING_FIXTURE_H_
