#include "core/image/png.h"

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

absl::StatusOr<DecodedImage> DecodePng(const std::string& png) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, png.data(), png.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("png: not a readable PNG (", image.message, ")"));
  }
  DecodedImage out;
  out.width = static_cast<int>(image.width);
  out.height = static_cast<int>(image.height);
  const bool color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
  const bool alpha = (image.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  if (alpha || (image.format & PNG_FORMAT_FLAG_LINEAR) != 0) {
    png_image_free(&image);
    return absl::InvalidArgumentError(
        "png: only 8-bit gray or RGB images without alpha are supported");
  }
  image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  out.channels = color ? 3 : 1;
  out.pixels.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
    png_image_free(&image);
    return absl::InvalidArgumentError(
        absl::StrCat("png: decoding failed (", image.message, ")"));
  }
  return out;
}

}  // namespace proxflow::image
