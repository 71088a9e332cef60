#include "core/image/canvas.h"

#include <cstdlib>

namespace proxflow::image {
namespace {

// 3×5 glyphs, one row of three bits per entry, top row first.
const std::array<uint8_t, 5>* Glyph(char c) {
  static const std::array<uint8_t, 5> kDigits[10] = {
      {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7},
      {5, 5, 7, 1, 1}, {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1},
      {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7}};
  static const std::array<uint8_t, 5> kDot = {0, 0, 0, 0, 2};
  static const std::array<uint8_t, 5> kMinus = {0, 0, 7, 0, 0};
  static const std::array<uint8_t, 5> kPlus = {0, 2, 7, 2, 0};
  static const std::array<uint8_t, 5> kE = {7, 4, 6, 4, 7};
  if (c >= '0' && c <= '9') return &kDigits[c - '0'];
  switch (c) {
    case '.':
      return &kDot;
    case '-':
      return &kMinus;
    case '+':
      return &kPlus;
    case 'e':
      return &kE;
    default:
      return nullptr;
  }
}

}  // namespace

Canvas::Canvas(int w, int h)
    : w_(w), h_(h), pixels_(static_cast<size_t>(w) * h * 3, 255) {}

void Canvas::Put(int x, int y, const Rgb& c) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
  uint8_t* p = &pixels_[(static_cast<size_t>(y) * w_ + x) * 3];
  p[0] = c[0];
  p[1] = c[1];
  p[2] = c[2];
}

void Canvas::Line(int x0, int y0, int x1, int y1, const Rgb& c) {
  const int dx = std::abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
  const int dy = -std::abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  while (true) {
    Put(x0, y0, c);
    Put(x0, y0 + 1, c);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

void Canvas::Text(int x, int y, const std::string& text, const Rgb& c) {
  for (char ch : text) {
    if (const auto* g = Glyph(ch)) {
      for (int row = 0; row < 5; ++row) {
        for (int col = 0; col < 3; ++col) {
          if (((*g)[row] >> (2 - col)) & 1) {
            for (int k = 0; k < 4; ++k)
              Put(x + 2 * col + k % 2, y + 2 * row + k / 2, c);
          }
        }
      }
    }
    x += 8;
  }
}

}  // namespace proxflow::image
