#include "core/torch_fence.h"

#include <c10/util/Exception.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace proxflow::core::internal {

absl::Status CurrentExceptionToStatus(absl::string_view context) {
  try {
    throw;
  } catch (const c10::IndexError& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(context, ": ", e.what_without_backtrace()));
  } catch (const c10::ValueError& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(context, ": ", e.what_without_backtrace()));
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat(context, ": ", e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat(context, ": out of memory"));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(context, ": ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(context, ": unknown exception"));
  }
}

}  // namespace proxflow::core::internal
