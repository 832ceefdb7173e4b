#include "common/resources.h"

#include <algorithm>

#include "common/quantity.h"
#include "common/strings.h"

namespace cloudai {
namespace {

struct FixedDim {
  std::string_view name;     // field name in errors and ToString
  std::string_view display;  // name in "Insufficient ..." messages
  int64_t Resources::*field;
  int64_t limit;
  std::string (*format)(int64_t);
};

constexpr FixedDim kFixedDims[] = {
    {"cpu", "CPU", &Resources::cpu_millis, kMaxCpuMillis, &FormatMillis},
    {"memory", "Memory", &Resources::memory_mib, kMaxMemoryMiB, &FormatGb},
    {"storage", "Storage", &Resources::storage_mib, kMaxStorageMiB, &FormatGb},
    {"gpu", "GPU", &Resources::gpu_millis, kMaxGpuMillis, &FormatMillis},
};

using ExtraList = std::vector<std::pair<std::string, int64_t>>;

ExtraList::const_iterator FindExtra(const ExtraList& extras, std::string_view name) {
  auto it = std::lower_bound(extras.begin(), extras.end(), name,
                             [](const auto& e, std::string_view n) { return e.first < n; });
  return (it != extras.end() && it->first == name) ? it : extras.end();
}

// Applies op to every dimension of a and b; an error when a result leaves [0, limit].
template <typename Op>
absl::StatusOr<Resources> Combine(const Resources& a, const Resources& b, Op op,
                                  std::string_view verb) {
  Resources out;
  for (const FixedDim& d : kFixedDims) {
    int64_t v = 0;
    if (!op(a.*d.field, b.*d.field, &v) || v < 0 || v > d.limit) {
      return absl::OutOfRangeError(StrCat("cannot ", verb, " ", d.name, ": ",
                                                d.format(a.*d.field), " and ",
                                                d.format(b.*d.field),
                                                " leave the range 0 to ", d.format(d.limit)));
    }
    out.*d.field = v;
  }
  // Every name on either side; a result of 0 drops the name.
  ExtraList merged;
  std::vector<std::string> names;
  for (const auto& [name, qty] : a.extras) names.push_back(name);
  for (const auto& [name, qty] : b.extras) names.push_back(name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const std::string& name : names) {
    int64_t v = 0;
    if (!op(a.Extra(name), b.Extra(name), &v) || v < 0 || v > kMaxExtraQuantity) {
      return absl::OutOfRangeError(StrCat("cannot ", verb, " ", name, ": ",
                                                a.Extra(name), " and ", b.Extra(name),
                                                " leave the range 0 to ",
                                                kMaxExtraQuantity));
    }
    if (v != 0) merged.emplace_back(name, v);
  }
  out.extras = std::move(merged);
  return out;
}

}  // namespace

Resources Resources::Of(int64_t cpu_millis, int64_t memory_mib, int64_t storage_mib,
                        int64_t gpu_millis) {
  Resources r;
  r.cpu_millis = cpu_millis;
  r.memory_mib = memory_mib;
  r.storage_mib = storage_mib;
  r.gpu_millis = gpu_millis;
  return r;
}

int64_t Resources::Extra(std::string_view name) const {
  auto it = FindExtra(extras, name);
  return it == extras.end() ? 0 : it->second;
}

void Resources::SetExtra(std::string_view name, int64_t quantity) {
  auto it = std::lower_bound(extras.begin(), extras.end(), name,
                             [](const auto& e, std::string_view n) { return e.first < n; });
  const bool found = it != extras.end() && it->first == name;
  if (quantity == 0) {
    if (found) extras.erase(it);
  } else if (found) {
    it->second = quantity;
  } else {
    extras.emplace(it, std::string(name), quantity);
  }
}

bool Resources::IsZero() const {
  return cpu_millis == 0 && memory_mib == 0 && storage_mib == 0 && gpu_millis == 0 &&
         extras.empty();
}

absl::Status Resources::Validate(std::string_view prefix) const {
  for (const FixedDim& d : kFixedDims) {
    const int64_t v = this->*d.field;
    if (v < 0) {
      return absl::InvalidArgumentError(
          StrCat(prefix, ".", d.name, ": ", v, " is negative; resources must be 0 or more"));
    }
    if (v > d.limit) {
      return absl::InvalidArgumentError(StrCat(prefix, ".", d.name, ": ", d.format(v),
                                                     " is above the limit of ",
                                                     d.format(d.limit)));
    }
  }
  if (extras.size() > kMaxExtraKinds) {
    return absl::InvalidArgumentError(StrCat(prefix, ".extras: ", extras.size(),
                                                   " kinds is above the limit of ",
                                                   kMaxExtraKinds));
  }
  for (size_t i = 0; i < extras.size(); ++i) {
    const auto& [name, v] = extras[i];
    const std::string field = StrCat(prefix, ".", name);
    if (absl::Status s = ValidateExtraName(name, field); !s.ok()) return s;
    if (i > 0 && extras[i - 1].first >= name) {
      return absl::InvalidArgumentError(
          StrCat(field, ": extra resources must be unique and sorted by name"));
    }
    if (v < 0) {
      return absl::InvalidArgumentError(
          StrCat(field, ": ", v, " is negative; resources must be 0 or more"));
    }
    if (v > kMaxExtraQuantity) {
      return absl::InvalidArgumentError(StrCat(field, ": ", v,
                                                     " is above the limit of ",
                                                     kMaxExtraQuantity));
    }
  }
  return absl::OkStatus();
}

bool Resources::FitsIn(const Resources& available) const {
  if (cpu_millis > available.cpu_millis || memory_mib > available.memory_mib ||
      storage_mib > available.storage_mib || gpu_millis > available.gpu_millis) {
    return false;
  }
  for (const auto& [name, qty] : extras) {
    if (qty > available.Extra(name)) return false;
  }
  return true;
}

std::string Resources::ToString() const {
  std::string out = StrCat("cpu=", FormatMillis(cpu_millis), " memory=",
                                 FormatGb(memory_mib), " storage=", FormatGb(storage_mib),
                                 " gpu=", FormatMillis(gpu_millis));
  for (const auto& [name, qty] : extras) StrAppend(&out, " ", name, "=", qty);
  return out;
}

absl::StatusOr<Resources> Add(const Resources& a, const Resources& b) {
  return Combine(a, b, &CheckedAdd, "add");
}

absl::StatusOr<Resources> Subtract(const Resources& a, const Resources& b) {
  return Combine(a, b, &CheckedSub, "subtract");
}

std::optional<std::string> Shortfall(const Resources& available, const Resources& request) {
  for (const FixedDim& d : kFixedDims) {
    if (request.*d.field > available.*d.field) {
      return StrCat("Insufficient ", d.display, ": worker has ",
                          d.format(available.*d.field), " available, task requires ",
                          d.format(request.*d.field));
    }
  }
  for (const auto& [name, qty] : request.extras) {
    if (qty > available.Extra(name)) {
      return StrCat("Insufficient ", name, ": worker has ", available.Extra(name),
                          " available, task requires ", qty);
    }
  }
  return std::nullopt;
}

}  // namespace cloudai
