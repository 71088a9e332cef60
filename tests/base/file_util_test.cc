#include "core/base/file_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace proxflow {
namespace {

TEST(WriteFileAtomically, ReplacesWholeFileAndLeavesNoTemp) {
  const std::string dir =
      ::testing::TempDir() + "/atomic_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/blob";
  ASSERT_TRUE(WriteFileAtomically(path, "first version").ok());
  ASSERT_TRUE(WriteFileAtomically(path, std::string(100000, 'x')).ok());
  auto read = ReadFile(path, 1 << 20);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, std::string(100000, 'x'));
  int entries = 0;
  for ([[maybe_unused]] const auto& e :
       std::filesystem::directory_iterator(dir))
    ++entries;
  EXPECT_EQ(entries, 1);
  EXPECT_EQ(ReadFile(path, 10).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadFile(dir + "/missing", 10).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(WriteFileAtomically(dir + "/no/such/dir/blob", "x").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace proxflow
