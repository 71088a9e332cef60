// The format-2 checkpoint container: a round trip, and every way a file can
// lie about itself refused with INVALID_ARGUMENT naming the problem.
#include "core/checkpoint_file.h"

#include <cstring>
#include <string>

#include "core/base/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace proxflow::core {
namespace {

namespace pb = proxflow::v1;
using ::testing::HasSubstr;

std::string Floats(std::initializer_list<float> v) {
  std::string out(v.size() * sizeof(float), '\0');
  std::memcpy(out.data(), std::data(v), out.size());
  return out;
}

std::string Assemble(const pb::CheckpointHeader& h, const std::string& data,
                     uint32_t version = 2) {
  return AssembleCheckpointFile(h, data, version);
}

// A header whose one tensor "w" (float32, `shape`) covers `data`.
pb::CheckpointHeader OneTensor(const std::string& data,
                               std::vector<int64_t> shape, uint64_t offset = 0,
                               uint64_t size = 8) {
  pb::CheckpointHeader h;
  h.set_format("proxflow-checkpoint");
  h.set_data_size(data.size());
  h.set_data_sha256(Sha256Hex(data));
  pb::TensorEntry* e = h.add_tensors();
  e->set_name("w");
  e->set_dtype(pb::TENSOR_DTYPE_FLOAT32);
  for (int64_t d : shape) e->add_shape(d);
  e->set_offset(offset);
  e->set_size(size);
  return h;
}

void ExpectRefused(const std::string& bytes, const std::string& why) {
  const auto r = ParseCheckpointFile(bytes);
  ASSERT_FALSE(r.ok()) << "accepted; expected: " << why;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("checkpoint: "));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(why));
}

TEST(CheckpointFile, RoundTripsTensorsAndHeader) {
  CheckpointFileWriter w;
  w.Add("a", pb::TENSOR_DTYPE_FLOAT32, {2}, Floats({1.5f, -2}));
  w.Add("b/c", pb::TENSOR_DTYPE_UINT8, {3}, "xyz");
  w.Add("empty", pb::TENSOR_DTYPE_FLOAT64, {0, 4}, "");
  pb::CheckpointHeader h;
  h.set_iteration(7);
  h.add_history_names("kl");
  h.add_history()->add_values(0.25);
  const std::string file = w.Finish(h);
  auto r = ParseCheckpointFile(file);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->header.iteration(), 7);
  EXPECT_EQ(r->header.format(), "proxflow-checkpoint");
  ASSERT_EQ(r->tensors.size(), 3u);
  EXPECT_EQ(r->tensors.at("a").second, Floats({1.5f, -2}));
  EXPECT_EQ(r->tensors.at("b/c").second, "xyz");
  EXPECT_EQ(r->tensors.at("b/c").first->dtype(), pb::TENSOR_DTYPE_UINT8);
  EXPECT_TRUE(r->tensors.at("empty").second.empty());
  // Data offsets are 64-byte aligned.
  EXPECT_EQ(r->tensors.at("b/c").first->offset() % 64, 0u);
}

TEST(CheckpointFile, RefusesForeignAndDamagedFiles) {
  const std::string data = Floats({1, 2});
  const std::string good = Assemble(OneTensor(data, {2}), data);
  ASSERT_TRUE(ParseCheckpointFile(good).ok());

  ExpectRefused("", "shorter than the 24-byte file header");
  ExpectRefused(std::string("PK\x03\x04", 4) + "rest of a zip",
                "proxflow-lab convert-checkpoint");
  ExpectRefused(std::string(64, 'x'), "no PXFLCKPT magic");
  ExpectRefused(Assemble(OneTensor(data, {2}), data, 3),
                "unsupported format version 3");
  ExpectRefused(good.substr(0, good.size() - 1), "truncated or padded");
  ExpectRefused(good + "x", "truncated or padded");
  ExpectRefused(good.substr(0, 30), "truncated: the header claims");
  std::string flipped = good;
  flipped.back() ^= 1;
  ExpectRefused(flipped, "does not match its SHA-256");
  std::string huge = good;
  const uint64_t claim = uint64_t{1} << 40;
  std::memcpy(huge.data() + 16, &claim, 8);
  ExpectRefused(huge, "exceeds kMaxCheckpointHeaderBytes");
  pb::CheckpointHeader other = OneTensor(data, {2});
  other.set_format("something-else");
  ExpectRefused(Assemble(other, data), "not \"proxflow-checkpoint\"");
}

TEST(CheckpointFile, RefusesTensorsThatLie) {
  const std::string data = Floats({1, 2});
  ExpectRefused(Assemble(OneTensor(data, {3}, 0, 12), data),
                "3 elements of 4 bytes, more than the file's 8 data bytes");
  ExpectRefused(Assemble(OneTensor(data, {2}, 4, 8), data),
                "lies outside the data section");
  ExpectRefused(Assemble(OneTensor(data, {2}, ~uint64_t{0} - 2, 8), data),
                "lies outside the data section");
  ExpectRefused(Assemble(OneTensor(data, {1}), data),
                "declares 8 bytes; its dtype and shape need 4");
  ExpectRefused(Assemble(OneTensor(data, {-2}), data), "negative dimension -2");
  ExpectRefused(
      Assemble(OneTensor(data, {int64_t{1} << 40, int64_t{1} << 40}), data),
      "shape larger than the file");
  ExpectRefused(Assemble(OneTensor(data, {1, 1, 1, 1, 1, 1, 1, 1, 2}), data),
                "rank 9");
  pb::CheckpointHeader h = OneTensor(data, {2});
  h.mutable_tensors(0)->set_dtype(static_cast<pb::TensorDType>(99));
  ExpectRefused(Assemble(h, data), "unknown dtype 99");
  h = OneTensor(data, {2});
  *h.add_tensors() = h.tensors(0);
  ExpectRefused(Assemble(h, data), "\"w\" appears twice");
  h = OneTensor(data, {2});
  h.mutable_tensors(0)->set_name("");
  ExpectRefused(Assemble(h, data), "tensor name of 0 characters");
  h = OneTensor(data, {2});
  h.add_history_names("a");
  h.add_history()->set_iteration(3);
  ExpectRefused(Assemble(h, data), "iteration 3 has 0 values for 1 names");
}

}  // namespace
}  // namespace proxflow::core
