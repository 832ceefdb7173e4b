#include "worker/docker/docker_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "worker/docker/json_util.h"

namespace cloudai::worker::docker {
namespace {

using std::chrono::milliseconds;

// The longest piece of a non-JSON error body quoted in an error.
constexpr size_t kMaxQuotedBody = 512;

absl::Status WithCode(absl::StatusCode code, std::string message) {
  return absl::Status(code, message);
}

absl::StatusCode CodeForHttpStatus(int status) {
  switch (status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kFailedPrecondition;
    case 501:
      return absl::StatusCode::kUnimplemented;
    case 503:
      return absl::StatusCode::kUnavailable;
    default:
      return status >= 500 ? absl::StatusCode::kInternal : absl::StatusCode::kUnknown;
  }
}

// Prefixes an error's message, keeping its code.
absl::Status Annotate(const absl::Status& status, std::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), StrCat(prefix, ": ", status.message()));
}

// "busybox:1.36" → {"busybox", "1.36"}; "reg:5000/app" → {"reg:5000/app", "latest"};
// "app@sha256:..." → {"app", "sha256:..."} (the engine takes a digest as the tag).
std::pair<std::string, std::string> SplitImageRef(std::string_view ref) {
  if (const size_t at = ref.find('@'); at != std::string_view::npos) {
    return {std::string(ref.substr(0, at)), std::string(ref.substr(at + 1))};
  }
  const size_t slash = ref.rfind('/');
  const size_t colon = ref.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    return {std::string(ref.substr(0, colon)), std::string(ref.substr(colon + 1))};
  }
  return {std::string(ref), "latest"};
}

std::vector<std::string> JsonStrings(const nlohmann::json& j, std::string_view key) {
  std::vector<std::string> out;
  const nlohmann::json* field = JsonField(j, key);
  if (field == nullptr || !field->is_array()) return out;
  for (const auto& item : *field) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

std::string WithoutSlash(std::string name) {
  if (!name.empty() && name.front() == '/') name.erase(0, 1);
  return name;
}

// Reads two digits (or `n` digits) at `pos` into *out.
bool ReadDigits(std::string_view text, size_t pos, size_t n, int* out) {
  if (pos + n > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

absl::Status CheckSignal(std::string_view signal) {
  if (signal.empty() || signal.size() > 16) {
    return absl::InvalidArgumentError(StrCat("signal \"", signal, "\": expected a name or number"));
  }
  for (char c : signal) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-') {
      return absl::InvalidArgumentError(
          StrCat("signal \"", signal, "\": expected a name (SIGKILL) or number (9)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> ParseDockerTime(std::string_view text) {
  if (text.empty()) return 0;
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        StrCat("time \"", text.substr(0, 64), "\": expected RFC 3339 (2024-05-01T12:00:00Z)"));
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadDigits(text, 0, 4, &year) || text.size() < 19 || text[4] != '-' ||
      !ReadDigits(text, 5, 2, &month) || text[7] != '-' || !ReadDigits(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !ReadDigits(text, 11, 2, &hour) ||
      text[13] != ':' || !ReadDigits(text, 14, 2, &minute) || text[16] != ':' ||
      !ReadDigits(text, 17, 2, &second)) {
    return bad();
  }
  if (year <= 1) return 0;  // Go's zero time: never
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (int i = digits; i < 3; ++i) millis *= 10;
  }
  int64_t offset_s = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0, om = 0;
    if (!ReadDigits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ReadDigits(text, pos + 4, 2, &om)) {
      return bad();
    }
    offset_s = (text[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return bad();
  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return seconds * 1000 + millis;
}

int CompareApiVersions(std::string_view a, std::string_view b) {
  while (!a.empty() || !b.empty()) {
    auto next = [](std::string_view& s) {
      const size_t dot = s.find('.');
      const std::string_view part = s.substr(0, dot);
      s = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
      int64_t value = 0;
      std::from_chars(part.data(), part.data() + part.size(), value);
      return value;
    };
    const int64_t x = next(a);
    const int64_t y = next(b);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

absl::Status DockerError(const HttpRequest& request, const HttpResponse& response) {
  std::string message;
  const nlohmann::json j =
      nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) message = JsonString(j, "message");
  if (message.empty()) {
    message = std::string(StripWhitespace(response.body));
    if (message.size() > kMaxQuotedBody) {
      message = StrCat(message.substr(0, kMaxQuotedBody), "...");
    }
  }
  std::string text = StrCat("docker ", DescribeRequest(request), ": HTTP ", response.status);
  if (!response.reason.empty()) StrAppend(&text, " ", response.reason);
  if (!message.empty()) StrAppend(&text, ": ", message);
  return WithCode(CodeForHttpStatus(response.status), std::move(text));
}

namespace {

HttpClientOptions HttpOptionsFor(const DockerClientOptions& options) {
  HttpClientOptions http;
  http.endpoint = options.endpoint;
  http.default_timeout = options.request_timeout;
  http.max_idle_connections = options.max_idle_connections;
  return http;
}

HttpRequest Get(std::string target) {
  HttpRequest request;
  request.method = "GET";
  request.target = std::move(target);
  return request;
}

}  // namespace

DockerClient::DockerClient(DockerClientOptions options)
    : options_(std::move(options)), http_(HttpOptionsFor(options_)) {}

DockerClient::~DockerClient() = default;

absl::StatusOr<DockerClientOptions> DockerClient::OptionsFromEnvironment() {
  absl::StatusOr<Endpoint> endpoint = EndpointFromEnvironment();
  if (!endpoint.ok()) return endpoint.status();
  DockerClientOptions options;
  options.endpoint = *std::move(endpoint);
  return options;
}

absl::Status DockerClient::Ping(std::stop_token stop) {
  const HttpRequest request = Get("/_ping");
  absl::StatusOr<HttpResponse> response = http_.Send(request, stop);
  if (!response.ok()) return response.status();
  if (!response->ok()) return DockerError(request, *response);
  return absl::OkStatus();
}

absl::StatusOr<VersionInfo> DockerClient::Version(std::stop_token stop) {
  const HttpRequest request = Get("/version");
  absl::StatusOr<HttpResponse> response = http_.Send(request, stop);
  if (!response.ok()) return response.status();
  if (!response->ok()) return DockerError(request, *response);
  absl::StatusOr<nlohmann::json> j = ParseJson(response->body, "GET /version");
  if (!j.ok()) return j.status();
  VersionInfo info;
  info.version = JsonString(*j, "Version");
  info.api_version = JsonString(*j, "ApiVersion");
  info.min_api_version = JsonString(*j, "MinAPIVersion");
  info.os = JsonString(*j, "Os");
  info.arch = JsonString(*j, "Arch");
  info.kernel_version = JsonString(*j, "KernelVersion");
  return info;
}

absl::StatusOr<std::string> DockerClient::NegotiateApiVersion(std::stop_token stop) {
  absl::StatusOr<VersionInfo> info = Version(stop);
  if (!info.ok()) return info.status();
  if (info->api_version.empty()) {
    return absl::FailedPreconditionError(
        StrCat("docker engine ", info->version, " at ", options_.endpoint.ToString(),
               " did not say which API version it speaks (GET /version has no ApiVersion)"));
  }
  std::string chosen = CompareApiVersions(options_.api_version, info->api_version) <= 0
                           ? options_.api_version
                           : info->api_version;
  if (!info->min_api_version.empty() && CompareApiVersions(info->min_api_version, chosen) > 0) {
    return absl::FailedPreconditionError(StrCat("docker engine ", info->version, " speaks API ",
                                                info->min_api_version, " to ", info->api_version,
                                                "; CloudAI speaks up to ", options_.api_version));
  }
  if (CompareApiVersions(chosen, kMinApiVersion) < 0) {
    return absl::FailedPreconditionError(StrCat("docker engine ", info->version,
                                                " speaks API up to ", info->api_version,
                                                "; CloudAI needs at least ", kMinApiVersion));
  }
  std::lock_guard<std::mutex> lock(mu_);
  api_version_ = chosen;
  return chosen;
}

std::string DockerClient::api_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return api_version_;
}

absl::StatusOr<std::string> DockerClient::VersionedTarget(std::string_view path_and_query,
                                                          const std::stop_token& stop) {
  std::string version = api_version();
  if (version.empty()) {
    absl::StatusOr<std::string> negotiated = NegotiateApiVersion(stop);
    if (!negotiated.ok()) return negotiated.status();
    version = *std::move(negotiated);
  }
  return StrCat("/v", version, path_and_query);
}

absl::StatusOr<HttpResponse> DockerClient::Call(std::string_view method,
                                                std::string_view path_and_query, std::string body,
                                                std::optional<milliseconds> timeout,
                                                std::initializer_list<int> accept,
                                                std::stop_token stop) {
  absl::StatusOr<std::string> target = VersionedTarget(path_and_query, stop);
  if (!target.ok()) return target.status();
  HttpRequest request;
  request.method = std::string(method);
  request.target = *std::move(target);
  request.body = std::move(body);
  request.timeout = timeout;
  absl::StatusOr<HttpResponse> response = http_.Send(request, stop);
  if (!response.ok()) return response.status();
  if (response->ok()) return response;
  for (int status : accept) {
    if (response->status == status) return response;
  }
  return DockerError(request, *response);
}

absl::StatusOr<bool> DockerClient::ImageExists(std::string_view ref) {
  if (absl::Status s = ValidateImageRef(ref); !s.ok()) return s;
  absl::StatusOr<HttpResponse> response =
      Call("GET", StrCat("/images/", ref, "/json"), "", std::nullopt, {404});
  if (!response.ok()) return response.status();
  return response->status != 404;
}

absl::Status DockerClient::PullImage(std::string_view ref, const PullProgressCallback& on_progress,
                                     std::stop_token stop) {
  if (absl::Status s = ValidateImageRef(ref); !s.ok()) return s;
  const std::string what = StrCat("pulling image ", ref);
  const auto [from_image, tag] = SplitImageRef(ref);
  absl::StatusOr<std::string> target = VersionedTarget(
      StrCat("/images/create?fromImage=", UrlEncode(from_image), "&tag=", UrlEncode(tag)), stop);
  if (!target.ok()) return Annotate(target.status(), what);
  HttpRequest request;
  request.method = "POST";
  request.target = *std::move(target);
  request.timeout = std::max(options_.request_timeout, options_.pull_idle_timeout);
  request.idle_timeout = options_.pull_idle_timeout;
  PullProgressParser parser(on_progress);
  absl::StatusOr<HttpResponse> response = http_.Stream(
      request, [&parser](std::string_view data) { return parser.Feed(data); }, stop);
  if (!response.ok()) return Annotate(response.status(), what);
  if (!response->ok()) return Annotate(DockerError(request, *response), what);
  return Annotate(parser.Finish(), what);
}

absl::StatusOr<std::string> DockerClient::CreateContainer(const ContainerSpec& spec) {
  absl::StatusOr<nlohmann::json> body = BuildCreateContainerBody(spec);
  if (!body.ok()) return body.status();
  if (!spec.gpus.empty()) {
    absl::StatusOr<std::string> target = VersionedTarget("", {});
    if (!target.ok()) return target.status();
    if (std::string version = api_version();
        CompareApiVersions(version, kDeviceRequestsApiVersion) < 0) {
      return absl::FailedPreconditionError(
          StrCat("task ", spec.task_id, " asks for GPUs, which need docker API ",
                 kDeviceRequestsApiVersion, " (the engine speaks ", version, ")"));
    }
  }
  std::string path = "/containers/create";
  if (!spec.name.empty()) StrAppend(&path, "?name=", UrlEncode(spec.name));
  absl::StatusOr<HttpResponse> response = Call("POST", path, DumpJson(*body), std::nullopt);
  if (!response.ok()) return response.status();
  absl::StatusOr<nlohmann::json> j = ParseJson(response->body, "POST /containers/create");
  if (!j.ok()) return j.status();
  std::string id = JsonString(*j, "Id");
  if (id.empty()) {
    return absl::InternalError(StrCat("docker POST /containers/create for task ", spec.task_id,
                                      ": the answer has no container Id"));
  }
  return id;
}

absl::Status DockerClient::StartContainer(std::string_view id) {
  if (absl::Status s = ValidateContainerId(id); !s.ok()) return s;
  return Call("POST", StrCat("/containers/", id, "/start"), "", std::nullopt, {304}).status();
}

absl::StatusOr<int64_t> DockerClient::WaitContainer(std::string_view id, std::stop_token stop) {
  if (absl::Status s = ValidateContainerId(id); !s.ok()) return s;
  absl::StatusOr<HttpResponse> response =
      Call("POST", StrCat("/containers/", id, "/wait?condition=not-running"), "", milliseconds(0),
           {}, stop);
  if (!response.ok()) return response.status();
  absl::StatusOr<nlohmann::json> j = ParseJson(response->body, "POST /containers/wait");
  if (!j.ok()) return j.status();
  if (const nlohmann::json* error = JsonField(*j, "Error"); error != nullptr) {
    if (std::string message = JsonString(*error, "Message"); !message.empty()) {
      return absl::InternalError(StrCat("docker POST /containers/", id, "/wait: ", message));
    }
  }
  const nlohmann::json* code = JsonField(*j, "StatusCode");
  if (code == nullptr || !code->is_number()) {
    return absl::InternalError(
        StrCat("docker POST /containers/", id, "/wait: the answer has no StatusCode"));
  }
  return JsonInt(*j, "StatusCode");
}

absl::Status DockerClient::StopContainer(std::string_view id, std::chrono::seconds grace) {
  if (absl::Status s = ValidateContainerId(id); !s.ok()) return s;
  if (grace.count() < 0) grace = std::chrono::seconds(0);
  return Call("POST", StrCat("/containers/", id, "/stop?t=", grace.count()), "",
              options_.request_timeout + grace, {304})
      .status();
}

absl::Status DockerClient::KillContainer(std::string_view id, std::string_view signal) {
  if (absl::Status s = ValidateContainerId(id); !s.ok()) return s;
  if (absl::Status s = CheckSignal(signal); !s.ok()) return s;
  return Call("POST", StrCat("/containers/", id, "/kill?signal=", signal), "", std::nullopt)
      .status();
}

absl::Status DockerClient::RemoveContainer(std::string_view id, bool force) {
  if (absl::Status s = ValidateContainerId(id); !s.ok()) return s;
  return Call("DELETE", StrCat("/containers/", id, "?v=1&force=", force ? "1" : "0"), "",
              std::nullopt)
      .status();
}

absl::StatusOr<ContainerInfo> DockerClient::InspectContainer(std::string_view id) {
  if (absl::Status s = ValidateContainerId(id); !s.ok()) return s;
  absl::StatusOr<HttpResponse> response =
      Call("GET", StrCat("/containers/", id, "/json"), "", std::nullopt);
  if (!response.ok()) return response.status();
  absl::StatusOr<nlohmann::json> j = ParseJson(response->body, "GET /containers/json");
  if (!j.ok()) return j.status();
  ContainerInfo info;
  info.id = JsonString(*j, "Id");
  info.name = WithoutSlash(JsonString(*j, "Name"));
  if (const nlohmann::json* state = JsonField(*j, "State"); state != nullptr) {
    ContainerState& s = info.state;
    s.status = JsonString(*state, "Status");
    s.running = JsonBool(*state, "Running");
    s.oom_killed = JsonBool(*state, "OOMKilled");
    s.exit_code = JsonInt(*state, "ExitCode");
    s.pid = JsonInt(*state, "Pid");
    s.error = JsonString(*state, "Error");
    s.started_at = JsonString(*state, "StartedAt");
    s.finished_at = JsonString(*state, "FinishedAt");
    // A time the engine writes oddly is left at 0 rather than failing the inspection.
    s.started_at_ms = ParseDockerTime(s.started_at).value_or(0);
    s.finished_at_ms = ParseDockerTime(s.finished_at).value_or(0);
  }
  if (const nlohmann::json* config = JsonField(*j, "Config"); config != nullptr) {
    info.image = JsonString(*config, "Image");
    info.labels = JsonStringMap(*config, "Labels");
    info.cmd = JsonStrings(*config, "Cmd");
    info.env = JsonStrings(*config, "Env");
    info.tty = JsonBool(*config, "Tty");
  }
  if (const nlohmann::json* host = JsonField(*j, "HostConfig"); host != nullptr) {
    info.nano_cpus = JsonInt(*host, "NanoCpus");
    info.memory_bytes = JsonInt(*host, "Memory");
    info.network_mode = JsonString(*host, "NetworkMode");
  }
  return info;
}

absl::StatusOr<std::vector<ContainerSummary>> DockerClient::ListContainers(
    const ListContainersOptions& options) {
  std::string path = StrCat("/containers/json?all=", options.all ? "1" : "0");
  if (!options.labels.empty()) {
    nlohmann::json filters = nlohmann::json::object();
    filters["label"] = options.labels;
    StrAppend(&path, "&filters=", UrlEncode(DumpJson(filters)));
  }
  absl::StatusOr<HttpResponse> response = Call("GET", path, "", std::nullopt);
  if (!response.ok()) return response.status();
  absl::StatusOr<nlohmann::json> j = ParseJson(response->body, "GET /containers/json");
  if (!j.ok()) return j.status();
  if (!j->is_array()) {
    return absl::InternalError("docker GET /containers/json: the answer is not a list");
  }
  std::vector<ContainerSummary> out;
  out.reserve(j->size());
  for (const nlohmann::json& item : *j) {
    ContainerSummary summary;
    summary.id = JsonString(item, "Id");
    for (std::string& name : JsonStrings(item, "Names")) {
      summary.names.push_back(WithoutSlash(std::move(name)));
    }
    summary.image = JsonString(item, "Image");
    summary.state = JsonString(item, "State");
    summary.status = JsonString(item, "Status");
    summary.labels = JsonStringMap(item, "Labels");
    summary.created_unix_s = JsonInt(item, "Created");
    out.push_back(std::move(summary));
  }
  return out;
}

absl::Status DockerClient::Logs(std::string_view id, const LogsOptions& options,
                                const LogCallback& on_data, std::stop_token stop) {
  if (absl::Status s = ValidateContainerId(id); !s.ok()) return s;
  if (!on_data) return absl::InvalidArgumentError("logs: no callback for the output");
  if (options.since_unix_ms < 0) {
    return absl::InvalidArgumentError(
        StrCat("logs since_unix_ms: ", options.since_unix_ms, " is negative"));
  }
  std::string path =
      StrCat("/containers/", id, "/logs?stdout=", options.include_stdout ? 1 : 0,
             "&stderr=", options.include_stderr ? 1 : 0, "&follow=", options.follow ? 1 : 0,
             "&timestamps=", options.timestamps ? 1 : 0);
  if (options.since_unix_ms > 0) {
    const int64_t nanos = (options.since_unix_ms % 1000) * 1'000'000;
    std::string frac = std::to_string(nanos);
    frac.insert(0, 9 - frac.size(), '0');
    StrAppend(&path, "&since=", options.since_unix_ms / 1000, ".", frac);
  }
  absl::StatusOr<std::string> target = VersionedTarget(path, stop);
  if (!target.ok()) return target.status();
  HttpRequest request;
  request.method = "GET";
  request.target = *std::move(target);
  request.idle_timeout = options.follow ? milliseconds(0) : options_.request_timeout;

  LogDemuxer demuxer(on_data);
  const bool raw = options.tty;
  absl::StatusOr<HttpResponse> response = http_.Stream(
      request,
      [&](std::string_view data) -> absl::Status {
        if (raw) {
          on_data(LogStream::kStdout, data);
          return absl::OkStatus();
        }
        return demuxer.Feed(data);
      },
      stop);
  const std::string what = StrCat("logs of container ", id);
  if (!response.ok()) return Annotate(response.status(), what);
  if (!response->ok()) return DockerError(request, *response);
  if (raw) return absl::OkStatus();
  return Annotate(demuxer.Finish(), what);
}

}  // namespace cloudai::worker::docker
