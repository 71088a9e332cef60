#include "core/image/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/image/canvas.h"
#include "core/image/png.h"

namespace proxflow::image {
namespace {

std::string Label(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.3g", v);
  return buffer;
}

}  // namespace

absl::StatusOr<std::string> RenderChartPng(
    const std::vector<ChartSeries>& series, const ChartOptions& options) {
  const int w = options.width, h = options.height;
  if (w < 64 || h < 64 || w > 4096 || h > 4096) {
    return absl::InvalidArgumentError(absl::StrCat(
        "chart size must be in [64, 4096] a side, got ", w, "x", h));
  }
  const auto value = [&](double y) {
    return options.log_y ? (y > 0 ? std::log10(y) : NAN) : y;
  };
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo;
  double y_lo = x_lo, y_hi = -x_lo;
  for (const ChartSeries& s : series) {
    if (s.x.size() != s.y.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "chart series: ", s.x.size(), " x values but ", s.y.size(), " y"));
    }
    for (size_t i = 0; i < s.x.size(); ++i) {
      const double y = value(s.y[i]);
      if (!std::isfinite(s.x[i]) || !std::isfinite(y)) continue;
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.bars ? std::min(0.0, y) : y);
      y_hi = std::max(y_hi, y);
    }
  }
  if (!(x_lo <= x_hi)) x_lo = 0, x_hi = 1;
  if (!(y_lo <= y_hi)) y_lo = 0, y_hi = 1;
  if (x_hi == x_lo) x_hi = x_lo + 1;
  if (y_hi == y_lo) y_hi = y_lo + 1;
  const double pad = 0.04 * (y_hi - y_lo);
  y_hi += pad;
  if (y_lo < 0 || !options.log_y) y_lo -= y_lo == 0 ? 0 : pad;

  // Plot area inside a margin that holds the axis labels.
  const int left = 56, right = w - 12, top = 12, bottom = h - 28;
  const auto px = [&](double x) {
    return left + static_cast<int>(
                      std::lround((x - x_lo) / (x_hi - x_lo) * (right - left)));
  };
  const auto py = [&](double y) {
    return bottom - static_cast<int>(std::lround((y - y_lo) / (y_hi - y_lo) *
                                                 (bottom - top)));
  };
  Canvas canvas(w, h);
  const Rgb frame = {120, 120, 120}, ink = {60, 60, 60};
  canvas.Line(left, top, left, bottom, frame);
  canvas.Line(left, bottom, right, bottom, frame);
  if (y_lo < 0 && y_hi > 0)
    canvas.Line(left, py(0), right, py(0), {215, 215, 215});
  // With log_y the labels are log10 values (the caption says so).
  canvas.Text(4, top, Label(y_hi), ink);
  canvas.Text(4, bottom - 10, Label(y_lo), ink);
  canvas.Text(left, bottom + 8, Label(x_lo), ink);
  const std::string x_hi_label = Label(x_hi);
  canvas.Text(right - 8 * static_cast<int>(x_hi_label.size()), bottom + 8,
              x_hi_label, ink);

  for (const ChartSeries& s : series) {
    bool have_previous = false;
    int previous_x = 0, previous_y = 0;
    for (size_t i = 0; i < s.x.size(); ++i) {
      const double y = value(s.y[i]);
      if (!std::isfinite(s.x[i]) || !std::isfinite(y)) {
        have_previous = false;
        continue;
      }
      const int x_pixel = px(s.x[i]), y_pixel = py(y);
      if (s.bars) {
        const double base = options.log_y ? y_lo : std::max(0.0, y_lo);
        canvas.Line(x_pixel, py(base), x_pixel, y_pixel, s.rgb);
      } else if (have_previous) {
        canvas.Line(previous_x, previous_y, x_pixel, y_pixel, s.rgb);
      } else {
        canvas.Put(x_pixel, y_pixel, s.rgb);
      }
      have_previous = true;
      previous_x = x_pixel;
      previous_y = y_pixel;
    }
  }
  return EncodePng(canvas.pixels(), w, h, 3);
}

}  // namespace proxflow::image
