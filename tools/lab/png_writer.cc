#include "tools/lab/png_writer.h"

#include <png.h>

#include "absl/strings/str_cat.h"

namespace proxflow::image {
namespace {

void AppendToString(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}

void Flush(png_structp) {}

}  // namespace

absl::StatusOr<std::string> EncodePng(const std::vector<uint8_t>& pixels,
                                      int width, int height, int channels) {
  if (width <= 0 || height <= 0 || (channels != 1 && channels != 3) ||
      pixels.size() != static_cast<size_t>(width) * height * channels) {
    return absl::InvalidArgumentError(
        absl::StrCat("png: ", pixels.size(), " bytes do not hold a ", width,
                     "x", height, "x", channels, " image"));
  }
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr)
    return absl::InternalError("png: cannot create write struct");
  png_infop info = png_create_info_struct(png);
  std::string out;
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return absl::InternalError("png: encoding failed");
  }
  png_set_write_fn(png, &out, AppendToString, Flush);
  png_set_IHDR(png, info, width, height, 8,
               channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const size_t stride = static_cast<size_t>(width) * channels;
  for (int y = 0; y < height; ++y) {
    png_write_row(png, const_cast<png_bytep>(pixels.data() + y * stride));
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

}  // namespace proxflow::image
