#include "worker/docker/json_util.h"

#include "common/strings.h"

namespace cloudai::worker::docker {

const nlohmann::json* JsonField(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string JsonString(const nlohmann::json& j, std::string_view key) {
  const nlohmann::json* field = JsonField(j, key);
  if (field == nullptr || !field->is_string()) return "";
  return field->get<std::string>();
}

int64_t JsonInt(const nlohmann::json& j, std::string_view key) {
  const nlohmann::json* field = JsonField(j, key);
  if (field == nullptr) return 0;
  if (field->is_number_integer()) return field->get<int64_t>();
  if (field->is_number_unsigned()) {
    const uint64_t v = field->get<uint64_t>();
    return v > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(v);
  }
  if (field->is_number_float()) {
    const double v = field->get<double>();
    if (!(v > -9.2e18 && v < 9.2e18)) return 0;
    return static_cast<int64_t>(v);
  }
  return 0;
}

bool JsonBool(const nlohmann::json& j, std::string_view key) {
  const nlohmann::json* field = JsonField(j, key);
  return field != nullptr && field->is_boolean() && field->get<bool>();
}

std::map<std::string, std::string> JsonStringMap(const nlohmann::json& j, std::string_view key) {
  std::map<std::string, std::string> out;
  const nlohmann::json* field = JsonField(j, key);
  if (field == nullptr || !field->is_object()) return out;
  for (auto it = field->begin(); it != field->end(); ++it) {
    if (it.value().is_string()) out.emplace(it.key(), it.value().get<std::string>());
  }
  return out;
}

absl::StatusOr<nlohmann::json> ParseJson(std::string_view body, std::string_view what) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InternalError(
        StrCat(what, ": the docker engine's answer is not JSON: ", body.substr(0, 200)));
  }
  return j;
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace cloudai::worker::docker
