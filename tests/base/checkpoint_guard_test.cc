// The structural check of checkpoint bytes against a real LibTorch checkpoint
// (the fuzz seed), the input the fuzzer found (an unpickler length that made
// LibTorch reserve gigabytes), and hand-made corruptions of each kind.
#include "core/checkpoint_guard.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace proxflow::core {
namespace {

// "toy-2d" is a real format-1 checkpoint (the format the guard protects: the
// legacy converter and the classifier cache), the others fuzz findings.
std::string Read(const std::string& name) {
  const std::string path =
      name == "toy-2d"
          ? PROXFLOW_SOURCE_DIR "/tests/testing/data/format1-toy-2d.ckpt"
          : PROXFLOW_SOURCE_DIR "/tests/fuzz/corpus/fuzz_checkpoint/" + name;
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string MessageOf(const std::string& bytes) {
  const absl::Status s = CheckCheckpointContainer(bytes);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  return std::string(s.message());
}

TEST(CheckpointGuard, AcceptsARealCheckpoint) {
  const std::string good = Read("toy-2d");
  ASSERT_GT(good.size(), 100000u);
  EXPECT_TRUE(CheckCheckpointContainer(good).ok())
      << CheckCheckpointContainer(good);
}

TEST(CheckpointGuard, RejectsTheFuzzersUnboundedAllocation) {
  const std::string found = Read("regression-unpickler-oom");
  ASSERT_FALSE(found.empty());
  // Its flipped bits also break a local header, which the check meets first;
  // the BINUNICODE length case itself is below.
  EXPECT_EQ(MessageOf(found).rfind("checkpoint: ", 0), 0u) << MessageOf(found);
}

TEST(CheckpointGuard, RejectsCorruptionsWithWhereAndWhat) {
  const std::string good = Read("toy-2d");
  EXPECT_NE(MessageOf("").find("too short"), std::string::npos);
  EXPECT_NE(MessageOf(std::string(4096, 'x')).find("not a zip archive"),
            std::string::npos);
  EXPECT_NE(MessageOf(good.substr(0, good.size() / 2)).find("not a zip"),
            std::string::npos);

  // A BINUNICODE ('X') length in data.pkl set to 2^31.
  std::string huge = good;
  const size_t pkl = huge.find("archive/data.pkl");
  ASSERT_NE(pkl, std::string::npos);
  const size_t op = huge.find('X', pkl + 16 + 30);
  ASSERT_NE(op, std::string::npos);
  huge[op + 4] = '\x80';
  EXPECT_NE(MessageOf(huge).find("past the record's end at byte"),
            std::string::npos)
      << MessageOf(huge);
  EXPECT_NE(MessageOf(huge).find("archive/data.pkl"), std::string::npos);

  // An unknown opcode right after PROTO 2.
  std::string unknown = good;
  const size_t proto = unknown.find("\x80\x02", pkl);
  ASSERT_NE(proto, std::string::npos);
  unknown[proto + 2] = '\xff';
  EXPECT_NE(MessageOf(unknown).find("unsupported pickle opcode 0xff"),
            std::string::npos);

  // A central directory entry whose local header offset points past the file.
  std::string far = good;
  const size_t central = far.rfind(std::string("PK\x01\x02", 4));
  ASSERT_NE(central, std::string::npos);
  far[central + 42 + 3] = '\x7f';
  EXPECT_NE(MessageOf(far).find("no local header inside the file"),
            std::string::npos);

  // A deflated entry claiming 1 GiB.
  std::string bomb = good;
  size_t at = bomb.find(std::string("PK\x01\x02", 4));
  while (at != std::string::npos && bomb[at + 10] != 8)
    at = bomb.find(std::string("PK\x01\x02", 4), at + 4);
  ASSERT_NE(at, std::string::npos) << "the checkpoint has a deflated entry";
  bomb[at + 24 + 3] = '\x40';
  EXPECT_NE(MessageOf(bomb).find("claims"), std::string::npos);
}

}  // namespace
}  // namespace proxflow::core
