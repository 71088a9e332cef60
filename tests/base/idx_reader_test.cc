// The IDX reader: valid files raw and gzip, and every malformed shape rejected
// by name.
#include "core/idx_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace proxflow::core {
namespace {

std::string Idx(std::vector<uint32_t> dims, size_t payload,
                uint8_t type = 0x08) {
  std::string s = {0, 0, static_cast<char>(type),
                   static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift : {24, 16, 8, 0})
      s.push_back(static_cast<char>((d >> shift) & 0xff));
  }
  for (size_t i = 0; i < payload; ++i) s.push_back(static_cast<char>(i % 251));
  return s;
}

TEST(ParseIdx, ReadsAValidFile) {
  auto f = ParseIdx(Idx({3, 2, 2}, 12), "ok");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->dims, (std::vector<int64_t>{3, 2, 2}));
  ASSERT_EQ(f->data.size(), 12u);
  EXPECT_EQ(f->data[11], 11);
}

struct Malformed {
  const char* name;
  std::string bytes;
  const char* problem;
};

void PrintTo(const Malformed& m, std::ostream* os) { *os << m.name; }

class ParseIdxRejects : public ::testing::TestWithParam<Malformed> {};

TEST_P(ParseIdxRejects, WithFileAndProblem) {
  auto f = ParseIdx(GetParam().bytes, "images.idx");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(f.status().message());
  EXPECT_NE(msg.find("images.idx"), std::string::npos) << msg;
  EXPECT_NE(msg.find(GetParam().problem), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    All, ParseIdxRejects,
    ::testing::Values(
        Malformed{"empty", "", "too short"},
        Malformed{"magic", std::string("\x12\x34\x08\x01", 4) + "abcd",
                  "wrong magic"},
        Malformed{"type", Idx({4}, 4, 0x0D), "unsupported element type"},
        Malformed{"rank", Idx({}, 0), "number of dimensions"},
        Malformed{"header", Idx({4, 4}, 0).substr(0, 9), "truncated header"},
        Malformed{"zero_dim", Idx({0, 4}, 0), "dimension 0 is 0"},
        Malformed{"truncated", Idx({4, 4}, 15), "truncated: 15 of 16"},
        Malformed{"trailing", Idx({4, 4}, 17), "1 unexpected trailing"},
        Malformed{"huge", Idx({65535, 65535, 65535}, 0), "payload over"}),
    [](const ::testing::TestParamInfo<Malformed>& info) {
      return info.param.name;
    });

TEST(ReadIdxFile, InflatesGzipAndRejectsCorruptGzip) {
  const std::string dir =
      ::testing::TempDir() + "/idx_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string bytes = Idx({2, 3}, 6);
  const std::string gz_path = dir + "/t10k-labels-idx1-ubyte.gz";
  gzFile gz = gzopen(gz_path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(gz);
  auto f = ReadIdxFromDir(dir, {"t10k-labels-idx1-ubyte"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->dims, (std::vector<int64_t>{2, 3}));

  // Cut the gzip stream in half: a clear error, not a partial read.
  std::string gz_bytes;
  {
    std::ifstream in(gz_path, std::ios::binary);
    gz_bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  {
    std::ofstream out(gz_path, std::ios::binary | std::ios::trunc);
    out.write(gz_bytes.data(),
              static_cast<std::streamsize>(gz_bytes.size() / 2));
  }
  auto cut = ReadIdxFile(gz_path);
  EXPECT_FALSE(cut.ok());
  EXPECT_NE(std::string(cut.status().message()).find(gz_path),
            std::string::npos);

  auto missing = ReadIdxFromDir(dir, {"nothing-here"});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace proxflow::core
