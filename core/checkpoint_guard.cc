#include "core/checkpoint_guard.h"

#include <cstdint>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace proxflow::core {
namespace {

constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint32_t kCentralEntry = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr size_t kEndRecordBytes = 22;
constexpr size_t kCentralEntryBytes = 46;
constexpr size_t kLocalHeaderBytes = 30;
constexpr uint64_t kMaxInflatedBytes = uint64_t{64} << 20;

uint64_t Le(absl::string_view s, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i)
    v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("checkpoint: ", what));
}

// Walks a pickle (protocol 2, as LibTorch writes it) opcode by opcode.
absl::Status CheckPickle(absl::string_view p, absl::string_view name) {
  size_t i = 0;
  const auto need = [&](uint64_t n) { return n <= p.size() - i; };
  const auto bad = [&](absl::string_view what, size_t at) {
    return Bad(absl::StrFormat("%s at byte %d of %s", what, at, name));
  };
  while (i < p.size()) {
    const size_t at = i;
    const uint8_t op = static_cast<uint8_t>(p[i++]);
    uint64_t fixed = 0;    // fixed-size argument
    int length_bytes = 0;  // length-prefixed argument
    switch (op) {
      case '.':  // STOP
        return absl::OkStatus();
      case '(':
      case 't':
      case ')':
      case ']':
      case '}':
      case 'a':
      case 'e':
      case 's':
      case 'u':
      case 0x81:
      case 'R':
      case 'b':
      case 'N':
      case 0x88:
      case 0x89:
      case 0x85:
      case 0x86:
      case 0x87:
      case 'Q':
      case '0':
      case '2':
      case '1':
      case 0x94:
        break;
      case 0x80:
      case 'K':
      case 'q':
      case 'h':  // PROTO BININT1 BINPUT BINGET
        fixed = 1;
        break;
      case 'M':  // BININT2
        fixed = 2;
        break;
      case 'J':
      case 'r':
      case 'j':  // BININT LONG_BINPUT LONG_BINGET
        fixed = 4;
        break;
      case 'G':
      case 0x95:  // BINFLOAT FRAME
        fixed = 8;
        break;
      case 0x8c:
      case 'C':
      case 'U':
      case 0x8a:  // short strings/bytes, LONG1
        length_bytes = 1;
        break;
      case 'X':
      case 'B':
      case 'T':
      case 0x8b:  // BINUNICODE BINBYTES ... LONG4
        length_bytes = 4;
        break;
      case 0x8d:
      case 0x8e:  // BINUNICODE8 BINBYTES8
        length_bytes = 8;
        break;
      case 'c': {  // GLOBAL: module\nname\n
        for (int line = 0; line < 2; ++line) {
          const size_t nl = p.find('\n', i);
          if (nl == absl::string_view::npos || nl - i > 4096)
            return bad("unterminated GLOBAL", at);
          i = nl + 1;
        }
        continue;
      }
      default:
        return bad(absl::StrFormat("unsupported pickle opcode 0x%02x", op), at);
    }
    if (length_bytes > 0) {
      if (!need(length_bytes)) return bad("truncated length", at);
      const uint64_t n = Le(p, i, length_bytes);
      i += length_bytes;
      if (!need(n)) {
        return bad(absl::StrFormat("a length of %d past the record's end", n),
                   at);
      }
      i += n;
    } else {
      if (!need(fixed)) return bad("truncated argument", at);
      i += fixed;
    }
  }
  return Bad(absl::StrCat(name, " has no STOP opcode"));
}

}  // namespace

absl::Status CheckCheckpointContainer(absl::string_view b) {
  if (b.size() < kEndRecordBytes) return Bad("too short to be an archive");
  // The end-of-central-directory record: last 22 bytes plus a comment.
  size_t end = absl::string_view::npos;
  const size_t lowest = b.size() >= kEndRecordBytes + 0xFFFF
                            ? b.size() - kEndRecordBytes - 0xFFFF
                            : 0;
  for (size_t at = b.size() - kEndRecordBytes + 1; at-- > lowest;) {
    if (Le(b, at, 4) == kEndOfCentralDirectory &&
        at + kEndRecordBytes + Le(b, at + 20, 2) == b.size()) {
      end = at;
      break;
    }
  }
  if (end == absl::string_view::npos)
    return Bad("not a zip archive (no end-of-central-directory record)");
  const uint64_t entries = Le(b, end + 10, 2);
  const uint64_t directory_size = Le(b, end + 12, 4);
  const uint64_t directory_offset = Le(b, end + 16, 4);
  if (directory_offset > end || directory_size > end - directory_offset)
    return Bad("the central directory lies outside the file");
  size_t at = directory_offset;
  uint64_t inflated = 0;
  for (uint64_t e = 0; e < entries; ++e) {
    if (at + kCentralEntryBytes > end || Le(b, at, 4) != kCentralEntry)
      return Bad(absl::StrCat("central directory entry ", e, " is malformed"));
    const uint64_t method = Le(b, at + 10, 2);
    const uint64_t compressed = Le(b, at + 20, 4);
    const uint64_t size = Le(b, at + 24, 4);
    const uint64_t name_len = Le(b, at + 28, 2);
    const uint64_t extra_len = Le(b, at + 30, 2);
    const uint64_t comment_len = Le(b, at + 32, 2);
    const uint64_t local = Le(b, at + 42, 4);
    if (at + kCentralEntryBytes + name_len + extra_len + comment_len > end)
      return Bad(absl::StrCat("central directory entry ", e, " is truncated"));
    const absl::string_view name = b.substr(at + kCentralEntryBytes, name_len);
    // LibTorch stores tensors and pickles and deflates some TorchScript code.
    // A deflated entry's claimed size is what the reader allocates: bounded
    // by deflate's largest ratio (1032:1) and a total budget.
    const bool pickle = absl::EndsWith(name, ".pkl");
    if (method == 0) {
      if (compressed != size) {
        return Bad(absl::StrCat("stored entry \"", name.substr(0, 64),
                                "\" has two different sizes"));
      }
    } else if (method == 8 && !pickle) {
      inflated += size;
      if (size > 1032 * compressed + 1024 || inflated > kMaxInflatedBytes) {
        return Bad(absl::StrCat("deflated entry \"", name.substr(0, 64),
                                "\" claims ", size, " bytes from ",
                                compressed));
      }
    } else {
      return Bad(absl::StrCat("entry \"", name.substr(0, 64),
                              "\" uses compression method ", method,
                              pickle ? " (pickles must be stored)" : ""));
    }
    if (local + kLocalHeaderBytes > directory_offset ||
        Le(b, local, 4) != kLocalHeader)
      return Bad(absl::StrCat("entry \"", name.substr(0, 64),
                              "\" has no local header inside the file"));
    const uint64_t data =
        local + kLocalHeaderBytes + Le(b, local + 26, 2) + Le(b, local + 28, 2);
    if (data > directory_offset || compressed > directory_offset - data) {
      return Bad(absl::StrCat("entry \"", name.substr(0, 64),
                              "\" claims data past the end of the file"));
    }
    if (pickle) {
      absl::Status pickle = CheckPickle(b.substr(data, size), name);
      if (!pickle.ok()) return pickle;
    }
    at += kCentralEntryBytes + name_len + extra_len + comment_len;
  }
  return absl::OkStatus();
}

}  // namespace proxflow::core
