#include "store/store.h"

#include "common/strings.h"
#include "store/sqlite_store.h"

namespace cloudai::store {
namespace {

constexpr std::string_view kAcceptedForms =
    "accepted forms are sqlite:PATH (e.g. sqlite:./cloudai-state/cloudai.db) and "
    "sqlite::memory:";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view url) {
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    // The URL may hold a password: do not repeat it.
    return absl::UnimplementedError(
        StrCat("store URL: the PostgreSQL store (postgresql://...) is not implemented yet in this "
               "build; ",
               kAcceptedForms));
  }
  if (url == "sqlite::memory:") {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(":memory:");
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(*std::move(store));
  }
  if (StartsWith(url, "sqlite:")) {
    const std::string_view path = url.substr(7);
    if (path.empty()) {
      return absl::InvalidArgumentError(
          StrCat("store URL \"sqlite:\" names no file; ", kAcceptedForms));
    }
    if (StartsWith(path, "//")) {
      return absl::InvalidArgumentError(StrCat("store URL \"", url,
                                               "\": write sqlite:PATH without \"//\" (e.g. "
                                               "sqlite:/var/lib/cloudai/cloudai.db); ",
                                               kAcceptedForms));
    }
    if (path.find('\0') != std::string_view::npos) {
      return absl::InvalidArgumentError(StrCat("store URL: bad path; ", kAcceptedForms));
    }
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(*std::move(store));
  }
  return absl::InvalidArgumentError(StrCat("unsupported store URL \"", url.substr(0, 200), "\"; ",
                                           kAcceptedForms, " (postgresql://... in a later build)"));
}

}  // namespace cloudai::store
