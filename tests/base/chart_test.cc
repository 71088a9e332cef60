// RenderChartPng: argument checks and what lands on the canvas.
#include "core/image/chart.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/image/png.h"

namespace proxflow::image {
namespace {

int CountColour(const DecodedImage& image, uint8_t r, uint8_t g, uint8_t b) {
  int n = 0;
  for (size_t i = 0; i + 2 < image.pixels.size(); i += 3) {
    if (image.pixels[i] == r && image.pixels[i + 1] == g &&
        image.pixels[i + 2] == b)
      ++n;
  }
  return n;
}

TEST(Chart, DrawsEachSeriesInItsColourAndSkipsNonFiniteValues) {
  ChartSeries line{{0, 1, 2, 3}, {1, 10, NAN, 1000}, {200, 10, 10}};
  ChartSeries bars{{0.5, 1.5}, {5, 50}, {10, 10, 200}, /*bars=*/true};
  ChartOptions options;
  options.width = 200;
  options.height = 120;
  options.log_y = true;
  auto png = RenderChartPng({line, bars}, options);
  ASSERT_TRUE(png.ok()) << png.status();
  auto image = DecodePng(*png);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->width, 200);
  EXPECT_EQ(image->height, 120);
  ASSERT_EQ(image->channels, 3);
  // Two line segments (the NaN breaks the line between x=1 and x=3, leaving
  // a lone point at x=3) and two bars.
  EXPECT_GT(CountColour(*image, 200, 10, 10), 40);
  EXPECT_GT(CountColour(*image, 10, 10, 200), 20);
}

TEST(Chart, RejectsBadSizesAndMismatchedSeries) {
  ChartOptions tiny;
  tiny.width = 10;
  EXPECT_EQ(RenderChartPng({}, tiny).status().code(),
            absl::StatusCode::kInvalidArgument);
  ChartSeries mismatched{{0, 1}, {1}};
  auto status = RenderChartPng({mismatched}, ChartOptions{}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("2 x values but 1 y"), std::string::npos)
      << status;
}

TEST(Chart, EmptyOrAllNonPositiveLogSeriesStillRenderAFrame) {
  ChartOptions options;
  options.log_y = true;
  auto png = RenderChartPng({ChartSeries{{0, 1}, {0, -1}}}, options);
  ASSERT_TRUE(png.ok()) << png.status();
  auto image = DecodePng(*png);
  ASSERT_TRUE(image.ok());
  EXPECT_GT(CountColour(*image, 120, 120, 120), 100);  // the axes
}

}  // namespace
}  // namespace proxflow::image
