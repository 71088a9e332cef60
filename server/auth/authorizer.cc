#include "server/auth/authorizer.h"

#include <openssl/crypto.h>

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/base/file_util.h"
#include "core/base/sha256.h"

namespace proxflow::server {
namespace {

constexpr size_t kMaxTokensFileBytes = 1 << 20;
constexpr absl::string_view kBearer = "Bearer ";

absl::StatusOr<Role> ParseRole(absl::string_view s) {
  if (s == "sampler") return Role::kSampler;
  if (s == "trainer") return Role::kTrainer;
  if (s == "admin") return Role::kAdmin;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown role \"", s.substr(0, 32), "\" (sampler, trainer, admin)"));
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kSampler:
      return "sampler";
    case Role::kTrainer:
      return "trainer";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

absl::StatusOr<std::vector<TokenEntry>> ParseTokens(absl::string_view text,
                                                    absl::string_view path) {
  std::vector<TokenEntry> entries;
  std::set<std::string> hashes, names;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    const auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": ", what));
    };
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 3) {
      return error(absl::StrCat("expected \"sha256:<hex> NAME ROLE\", got ",
                                fields.size(), " fields"));
    }
    absl::string_view hash = fields[0];
    if (!absl::ConsumePrefix(&hash, "sha256:") || !IsSha256Hex(hash)) {
      return error(
          "the first field must be sha256: and 64 lowercase hex digits (the "
          "hash of the token, e.g. `printf %s TOKEN | sha256sum`)");
    }
    absl::StatusOr<Role> role = ParseRole(fields[2]);
    if (!role.ok()) return error(role.status().message());
    if (!hashes.insert(std::string(hash)).second)
      return error("the same token hash appears twice");
    if (!names.insert(std::string(fields[1])).second) {
      return error(absl::StrCat("the name \"", fields[1], "\" appears twice"));
    }
    entries.push_back(
        TokenEntry{std::string(hash), std::string(fields[1]), *role});
  }
  return entries;
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::FromFile(
    const std::string& path) {
  std::unique_ptr<Authorizer> auth(new Authorizer(path));
  absl::Status loaded = auth->Reload();
  if (!loaded.ok()) return loaded;
  return auth;
}

absl::Status Authorizer::Reload() {
  if (!enabled()) return absl::OkStatus();
  absl::StatusOr<std::string> text = ReadFile(path_, kMaxTokensFileBytes);
  if (!text.ok()) {
    return absl::Status(
        text.status().code(),
        absl::StrCat("--auth_tokens_file: ", text.status().message()));
  }
  absl::StatusOr<std::vector<TokenEntry>> entries = ParseTokens(*text, path_);
  if (!entries.ok()) return entries.status();
  if (entries->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ": no tokens (every call would be refused)"));
  }
  auto table =
      std::make_shared<const std::vector<TokenEntry>>(*std::move(entries));
  absl::MutexLock lock(&mu_);
  tokens_ = std::move(table);
  return absl::OkStatus();
}

size_t Authorizer::token_count() const {
  absl::MutexLock lock(&mu_);
  return tokens_ == nullptr ? 0 : tokens_->size();
}

absl::Status Authorizer::Check(const grpc::ServerContextBase& context,
                               Role required) const {
  if (!enabled()) return absl::OkStatus();
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "this server requires a bearer token (authorization metadata; "
        "proxflow --token or PROXFLOW_TOKEN)");
  }
  return CheckToken(absl::string_view(it->second.data(), it->second.size()),
                    required);
}

absl::Status Authorizer::CheckToken(absl::string_view header,
                                    Role required) const {
  if (!enabled()) return absl::OkStatus();
  if (!absl::ConsumePrefix(&header, kBearer) || header.empty()) {
    return absl::UnauthenticatedError(
        "authorization metadata must be \"Bearer <token>\"");
  }
  const std::string hash = Sha256Hex(header);
  std::shared_ptr<const std::vector<TokenEntry>> tokens;
  {
    absl::MutexLock lock(&mu_);
    tokens = tokens_;
  }
  const TokenEntry* match = nullptr;
  for (const TokenEntry& entry : *tokens) {  // no early exit: constant time
    if (CRYPTO_memcmp(entry.sha256.data(), hash.data(), hash.size()) == 0)
      match = &entry;
  }
  if (match == nullptr) {
    return absl::UnauthenticatedError("unknown bearer token");
  }
  if (static_cast<int>(match->role) < static_cast<int>(required)) {
    return absl::PermissionDeniedError(
        absl::StrCat("\"", match->name, "\" has role ", RoleName(match->role),
                     "; this call needs ", RoleName(required)));
  }
  return absl::OkStatus();
}

}  // namespace proxflow::server
