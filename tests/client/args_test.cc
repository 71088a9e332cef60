// The CLI's flag parser and help text.
#include "client/cli/args.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace proxflow::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const CommandSpec kSpec{"sample",
                        "MODEL_REF",
                        1,
                        1,
                        "Generate samples.",
                        "",
                        {{"num_samples", "N", "how many", 'n'},
                         {"set", "PATH=VALUE", "override", 0, true},
                         {"follow", "", "watch it"}}};
const std::vector<Flag> kGlobal{{"server", "HOST:PORT", "address"}};

TEST(ArgsTest, ParsesLongShortEqualsRepeatedAndBooleanFlags) {
  auto args = ParseArgs(kSpec, kGlobal,
                        {"m@latest", "-n", "8", "--set", "a=1", "--set=b=2",
                         "--follow", "--server=h:1"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(args->positional(), ElementsAre("m@latest"));
  EXPECT_EQ(*args->GetInt("num_samples", 0, 1, 100), 8);
  EXPECT_THAT(args->GetAll("set"), ElementsAre("a=1", "b=2"));
  EXPECT_TRUE(args->Has("follow"));
  EXPECT_EQ(args->Get("server"), "h:1");
  EXPECT_FALSE(args->help());
}

TEST(ArgsTest, ErrorsNameTheFlagAndValue) {
  EXPECT_THAT(
      ParseArgs(kSpec, kGlobal, {"m", "--folow"}).status().message(),
      HasSubstr("unknown flag --folow for `sample` (did you mean --follow?)"));
  EXPECT_THAT(ParseArgs(kSpec, kGlobal, {"m", "-n"}).status().message(),
              HasSubstr("--num_samples needs a value (N)"));
  EXPECT_THAT(
      ParseArgs(kSpec, kGlobal, {"m", "-n", "1", "-n", "2"}).status().message(),
      HasSubstr("--num_samples is given twice (\"1\" and \"2\")"));
  EXPECT_THAT(ParseArgs(kSpec, kGlobal, {}).status().message(),
              HasSubstr("takes 1 argument (MODEL_REF), got 0"));
  EXPECT_THAT(
      ParseArgs(kSpec, kGlobal, {"m", "--follow=yes"}).status().message(),
      HasSubstr("--follow takes no value"));
  auto args = ParseArgs(kSpec, kGlobal, {"m", "-n", "x"});
  ASSERT_TRUE(args.ok());
  EXPECT_THAT(
      args->GetInt("num_samples", 0, 1, 100).status().message(),
      HasSubstr("--num_samples must be an integer in [1, 100], got \"x\""));
}

TEST(ArgsTest, DoubleDashEndsFlagsAndHelpNeedsNoArguments) {
  auto args = ParseArgs(kSpec, kGlobal, {"--", "-weird-ref"});
  ASSERT_TRUE(args.ok());
  EXPECT_THAT(args->positional(), ElementsAre("-weird-ref"));
  auto help = ParseArgs(kSpec, kGlobal, {"--help"});
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->help());
  const std::string text = HelpText(kSpec, kGlobal);
  EXPECT_THAT(text, HasSubstr("usage: proxflow sample [flags] MODEL_REF"));
  EXPECT_THAT(text, HasSubstr("-n, --num_samples N"));
  EXPECT_THAT(text, HasSubstr("--set PATH=VALUE"));
  EXPECT_THAT(text, HasSubstr("(repeatable)"));
  EXPECT_THAT(text, HasSubstr("--server HOST:PORT"));
}

}  // namespace
}  // namespace proxflow::cli
