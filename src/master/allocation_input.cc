#include "master/allocation_input.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "master/task_input.h"

namespace cloudai::master {
namespace {

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(StrCat(field, ": ", what));
}

std::string CatalogNames(const std::map<std::string, ServiceDefinition, std::less<>>& services) {
  if (services.empty()) return "the master's service catalog is empty (--services-file)";
  std::string names = "the catalog has:";
  for (const auto& [name, def] : services) StrAppend(&names, " ", name);
  return names;
}

}  // namespace

absl::Status ValidateAllocationId(std::string_view id, std::string_view field) {
  if (absl::Status s = ValidateName(id, 64, field); !s.ok()) return s;
  if (id.rfind(kAllocationIdPrefix, 0) != 0) {
    return Invalid(field, StrCat("\"", id, "\" is not an allocation id (alloc- and 12 hex digits)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<store::AllocationRecord> ValidateAllocationAsk(const AllocationAsk& ask,
                                                              const AllocationSettings& settings) {
  store::AllocationRecord record;
  if (absl::Status s = ValidateName(ask.job_id, kMaxTaskIdLength, "job_id"); !s.ok()) return s;
  record.job_id = ask.job_id;

  if (ask.workers < 0 || ask.workers > kMaxAllocationWorkers) {
    return Invalid("workers", StrCat(ask.workers, " is outside 1..", kMaxAllocationWorkers));
  }
  record.workers = ask.workers == 0 ? 1 : ask.workers;

  if (ask.priority.empty()) {
    record.priority = store::AllocationPriority::kNormal;
  } else {
    absl::StatusOr<store::AllocationPriority> priority =
        store::ParseAllocationPriority(ask.priority);
    if (!priority.ok()) {
      return Invalid("priority", StrCat("\"", ask.priority.substr(0, 32),
                                        "\" is not one of low, normal, high, critical"));
    }
    record.priority = *priority;
  }

  const int64_t max_ttl_s = settings.max_ttl.count() / 1000;
  if (ask.ttl_seconds < 0 || ask.ttl_seconds > max_ttl_s) {
    return Invalid("ttl_seconds", StrCat(ask.ttl_seconds, " is outside 1..", max_ttl_s,
                                         " (0 takes the default, ",
                                         settings.default_ttl.count() / 1000, ")"));
  }
  record.ttl_ms = ask.ttl_seconds == 0 ? settings.default_ttl.count() : ask.ttl_seconds * 1000;

  record.per_worker = ask.per_worker.IsZero() ? settings.default_slot : ask.per_worker;
  if (absl::Status s = record.per_worker.Validate("per_worker"); !s.ok()) return s;

  if (ask.services.size() > kMaxAllocationServices) {
    return Invalid("services", StrCat(ask.services.size(), " services; the limit is ",
                                      kMaxAllocationServices));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < ask.services.size(); ++i) {
    const std::string& name = ask.services[i];
    const std::string field = StrCat("services[", i, "]");
    if (absl::Status s = ValidateName(name, kMaxTaskIdLength, field); !s.ok()) return s;
    if (settings.services.find(name) == settings.services.end()) {
      return Invalid(field, StrCat("unknown service \"", name, "\"; ",
                                   CatalogNames(settings.services)));
    }
    if (seen.insert(name).second) record.services.push_back(name);
  }

  if (ask.metadata.size() > kMaxMetadataEntries) {
    return Invalid("metadata", StrCat(ask.metadata.size(), " keys; the limit is ",
                                      kMaxMetadataEntries));
  }
  for (const auto& [key, value] : ask.metadata) {
    if (key.empty() || key.size() > kMaxMetadataKeyLength) {
      return Invalid("metadata", StrCat("a key is ", key.size(), " bytes long; keys hold 1 to ",
                                        kMaxMetadataKeyLength));
    }
    if (key.find('\0') != std::string::npos || value.find('\0') != std::string::npos) {
      return Invalid(StrCat("metadata.", key), "contains a NUL byte");
    }
    if (value.size() > kMaxMetadataValueLength) {
      return Invalid(StrCat("metadata.", key), StrCat("is ", value.size(),
                                                      " bytes long; the limit is ",
                                                      kMaxMetadataValueLength));
    }
  }
  record.metadata = ask.metadata;
  record.wait = ask.wait;
  record.state = store::AllocationState::kPending;
  return record;
}

absl::StatusOr<std::map<std::string, ServiceDefinition, std::less<>>> ParseServiceCatalog(
    std::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Invalid("services file", "is not valid JSON");
  if (!doc.is_object() || !doc.contains("services") || !doc["services"].is_array()) {
    return Invalid("services file", "expected {\"services\": [...]}");
  }
  std::map<std::string, ServiceDefinition, std::less<>> out;
  size_t i = 0;
  for (const nlohmann::json& entry : doc["services"]) {
    const std::string field = StrCat("services[", i++, "]");
    if (!entry.is_object()) return Invalid(field, "is not an object");
    ServiceDefinition def;
    auto text = [&](const char* key, std::string* out_value) -> absl::Status {
      if (!entry.contains(key)) return absl::OkStatus();
      if (!entry[key].is_string()) return Invalid(StrCat(field, ".", key), "is not a string");
      *out_value = entry[key].get<std::string>();
      return absl::OkStatus();
    };
    auto quantity = [&](const char* key, int64_t* out_value) -> absl::Status {
      if (!entry.contains(key)) return absl::OkStatus();
      if (!entry[key].is_number_integer() || entry[key].get<int64_t>() < 0) {
        return Invalid(StrCat(field, ".", key), "is not a non-negative integer");
      }
      *out_value = entry[key].get<int64_t>();
      return absl::OkStatus();
    };
    for (absl::Status s : {text("name", &def.name), text("docker_image", &def.docker_image),
                           text("command", &def.command),
                           quantity("cpu", &def.request.cpu_millis),
                           quantity("memory", &def.request.memory_mib)}) {
      if (!s.ok()) return s;
    }
    if (absl::Status s = ValidateName(def.name, kMaxTaskIdLength, StrCat(field, ".name")); !s.ok()) {
      return s;
    }
    if (def.docker_image.empty() && def.command.empty()) {
      return Invalid(field, "needs a docker_image or a command");
    }
    if (def.docker_image.empty()) def.docker_image = "cloudai/exec";
    if (absl::Status s = def.request.Validate(StrCat(field, ".request")); !s.ok()) return s;
    if (entry.contains("env")) {
      if (!entry["env"].is_object()) return Invalid(StrCat(field, ".env"), "is not an object");
      for (const auto& [key, value] : entry["env"].items()) {
        if (!value.is_string()) return Invalid(StrCat(field, ".env.", key), "is not a string");
        def.env[key] = value.get<std::string>();
      }
    }
    if (out.count(def.name) != 0) {
      return Invalid(StrCat(field, ".name"), StrCat("\"", def.name, "\" is defined twice"));
    }
    out.emplace(def.name, std::move(def));
  }
  return out;
}

}  // namespace cloudai::master
