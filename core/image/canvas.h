// An RGB drawing surface for the image renderers (scatter plots, charts):
// pixels, two-pixel lines, and numeric labels in a built-in 3×5 font (digits,
// '.', '-', '+', 'e'). Internal to proxflow_image; thread-compatible.
#ifndef PROXFLOW_CORE_IMAGE_CANVAS_H_
#define PROXFLOW_CORE_IMAGE_CANVAS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace proxflow::image {

using Rgb = std::array<uint8_t, 3>;

class Canvas {
 public:
  // A white w×h canvas.
  Canvas(int w, int h);

  // Sets one pixel; outside the canvas: no-op.
  void Put(int x, int y, const Rgb& c);

  // Bresenham from (x0, y0) to (x1, y1), two pixels thick.
  void Line(int x0, int y0, int x1, int y1, const Rgb& c);

  // `text` with its top-left corner at (x, y), glyphs scaled ×2 (8 pixels a
  // character); characters without a glyph leave a gap.
  void Text(int x, int y, const std::string& text, const Rgb& c);

  // Rows of w·3 bytes, for EncodePng.
  const std::vector<uint8_t>& pixels() const { return pixels_; }

 private:
  int w_, h_;
  std::vector<uint8_t> pixels_;
};

}  // namespace proxflow::image

#endif  // PROXFLOW_CORE_IMAGE_CANVAS_H_
