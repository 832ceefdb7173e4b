#include "master/config.h"

#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>

#include "common/strings.h"
#include "common/system_info.h"
#include "scheduler/policy_registry.h"

namespace cloudai::master {
namespace {

using std::chrono::milliseconds;

struct Setting {
  const char* env;
  const char* flag;  // without the leading "--"
  const char* help;
  std::function<absl::Status(MasterConfig&, const std::string& value, const std::string& field)>
      apply;
};

absl::Status ApplyDuration(milliseconds* out, const std::string& value, const std::string& field,
                           milliseconds min) {
  absl::StatusOr<milliseconds> d = ParseDuration(value, field);
  if (!d.ok()) return d.status();
  if (*d < min) {
    return absl::InvalidArgumentError(
        StrCat(field, ": ", value, " is below the minimum of ", min.count(), "ms"));
  }
  *out = *d;
  return absl::OkStatus();
}

std::optional<std::string> ReadFile(const std::string& path);

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> settings = {
      {"GRPC_PORT", "grpc-port", "gRPC listen address for workers and clients",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         absl::StatusOr<std::string> a = ParseListenAddress(v, f, "0.0.0.0");
         if (!a.ok()) return a.status();
         c.grpc_listen = *a;
         return absl::OkStatus();
       }},
      {"HTTP_PORT", "http-port", "HTTP listen address (REST, WebSocket, dashboard)",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         absl::StatusOr<std::string> a = ParseListenAddress(v, f, "127.0.0.1");
         if (!a.ok()) return a.status();
         c.http_listen = *a;
         return absl::OkStatus();
       }},
      {"CLOUDAI_HTTP_ALLOWED_ORIGINS", "http-allowed-origins",
       "comma-separated origins (scheme://host[:port]) whose pages may use the HTTP API",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         std::vector<std::string> origins;
         std::string_view rest = v;
         while (!rest.empty()) {
           size_t comma = rest.find(',');
           std::string origin = AsciiLower(StripWhitespace(rest.substr(0, comma)));
           rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
           if (origin.empty()) continue;
           while (!origin.empty() && origin.back() == '/') origin.pop_back();
           const bool has_scheme =
               origin.rfind("http://", 0) == 0 || origin.rfind("https://", 0) == 0;
           if (!has_scheme || origin == "http://" || origin == "https://" ||
               origin.find('/', origin.find("//") + 2) != std::string::npos || origin == "*") {
             return absl::InvalidArgumentError(
                 StrCat(f, ": \"", origin, "\" is not an origin; use scheme://host[:port], "
                           "e.g. https://ops.example.com (no wildcard)"));
           }
           origins.push_back(std::move(origin));
         }
         c.http_allowed_origins = std::move(origins);
         return absl::OkStatus();
       }},
      {"CLOUDAI_STATE_DIR", "state-dir", "directory for the database and the admin token",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         if (v.empty()) return absl::InvalidArgumentError(StrCat(f, ": must not be empty"));
         c.state_dir = v;
         return absl::OkStatus();
       }},
      {"CLOUDAI_STORE", "store", "store URL: sqlite:PATH or postgresql://...",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         if (v.rfind("sqlite:", 0) != 0 && v.rfind("postgresql://", 0) != 0 &&
             v.rfind("postgres://", 0) != 0) {
           return absl::InvalidArgumentError(StrCat(
               f, ": \"", v, "\" is not a store URL; use sqlite:PATH or postgresql://..."));
         }
         c.store_url = v;
         return absl::OkStatus();
       }},
      {"CLOUDAI_MASTER_ID", "master-id", "this master's id",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         if (v.empty() || v.size() > 128) {
           return absl::InvalidArgumentError(StrCat(f, ": must be 1 to 128 characters"));
         }
         c.master_id = v;
         return absl::OkStatus();
       }},
      {"CLOUDAI_ADVERTISE_ADDRESS", "advertise-address",
       "host:port workers use to reach this master",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         if (v.find(':') == std::string::npos || v.front() == ':') {
           return absl::InvalidArgumentError(StrCat(f, ": \"", v, "\" must be host:port"));
         }
         c.advertise_address = v;
         return absl::OkStatus();
       }},
      {"CLOUDAI_SCHEDULER", "scheduler", "placement policy",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         absl::StatusOr<std::unique_ptr<scheduler::PlacementPolicy>> p = scheduler::MakePolicy(v);
         if (!p.ok()) return absl::InvalidArgumentError(StrCat(f, ": ", p.status().message()));
         c.scheduler = v;
         return absl::OkStatus();
       }},
      {"CLOUDAI_INACTIVITY_TIMEOUT", "inactivity-timeout",
       "a worker silent this long becomes inactive",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         return ApplyDuration(&c.inactivity_timeout, v, f, milliseconds(100));
       }},
      {"CLOUDAI_LOST_GRACE", "lost-grace",
       "after inactivity, how long before a worker's tasks are lost",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         return ApplyDuration(&c.lost_grace, v, f, milliseconds(0));
       }},
      {"CLOUDAI_QUEUE_INTERVAL", "queue-interval", "safety-net scheduling pass interval",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         return ApplyDuration(&c.queue_interval, v, f, milliseconds(10));
       }},
      {"CLOUDAI_SHELL", "shell",
       "the master> prompt on this terminal: auto (when stdin and stdout are terminals), on, off",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         if (v != "auto" && v != "on" && v != "off") {
           return absl::InvalidArgumentError(StrCat(f, ": \"", v, "\" is not auto, on or off"));
         }
         c.shell = v;
         return absl::OkStatus();
       }},
      {"CLOUDAI_SERVICES_FILE", "services-file",
       "the service catalog allocations may name (JSON; docs/allocations.md)",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         std::optional<std::string> text = ReadFile(v);
         if (!text) return absl::InvalidArgumentError(StrCat(f, ": cannot read \"", v, "\""));
         auto catalog = ParseServiceCatalog(*text);
         if (!catalog.ok()) {
           return absl::InvalidArgumentError(StrCat(f, ": ", catalog.status().message()));
         }
         c.allocations.services = std::move(*catalog);
         return absl::OkStatus();
       }},
      {"CLOUDAI_SERVICE_PORTS", "service-ports", "ports given to services: FIRST-LAST",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         int lo = 0, hi = 0;
         const size_t dash = v.find('-');
         const auto r1 = std::from_chars(v.data(), v.data() + (dash == std::string::npos ? 0 : dash), lo);
         const auto r2 = dash == std::string::npos
                             ? std::from_chars_result{v.data(), std::errc::invalid_argument}
                             : std::from_chars(v.data() + dash + 1, v.data() + v.size(), hi);
         if (dash == std::string::npos || r1.ec != std::errc() || r2.ec != std::errc() ||
             r2.ptr != v.data() + v.size() || lo < 1 || hi > 65535 || lo > hi) {
           return absl::InvalidArgumentError(
               StrCat(f, ": \"", v, "\" is not a port range; use e.g. 9000-9099"));
         }
         c.allocations.service_port_min = lo;
         c.allocations.service_port_max = hi;
         return absl::OkStatus();
       }},
      {"CLOUDAI_SERVICE_IDLE_TIMEOUT", "service-idle-timeout",
       "a service no allocation uses is stopped after this long",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         return ApplyDuration(&c.allocations.service_idle_timeout, v, f, milliseconds(0));
       }},
      {"CLOUDAI_ALLOCATION_DEFAULT_TTL", "allocation-default-ttl",
       "the TTL of an allocation that names none",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         return ApplyDuration(&c.allocations.default_ttl, v, f, milliseconds(1000));
       }},
      {"CLOUDAI_ALLOCATION_MAX_TTL", "allocation-max-ttl", "the longest TTL an allocation may have",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         return ApplyDuration(&c.allocations.max_ttl, v, f, milliseconds(1000));
       }},
      {"CLOUDAI_ALLOCATION_SWEEP_INTERVAL", "allocation-sweep-interval",
       "how often allocations past their TTL are expired",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         return ApplyDuration(&c.allocations.sweep_interval, v, f, milliseconds(100));
       }},
      {"CLOUDAI_MAX_LOG_BYTES", "max-log-bytes", "largest log kept per task result",
       [](MasterConfig& c, const std::string& v, const std::string& f) {
         int64_t n = 0;
         auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
         if (ec != std::errc() || end != v.data() + v.size() || n < 1024 || n > (1 << 30)) {
           return absl::InvalidArgumentError(
               StrCat(f, ": \"", v, "\" must be a byte count from 1024 to 1073741824"));
         }
         c.max_log_bytes = n;
         return absl::OkStatus();
       }},
  };
  return settings;
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<milliseconds> ParseDuration(std::string_view raw, std::string_view field) {
  const std::string_view text = StripWhitespace(raw);
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string_view unit = text.substr(digits);
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, n);
  int64_t scale = 0;
  if (unit.empty() || unit == "s") scale = 1000;
  if (unit == "ms") scale = 1;
  if (unit == "m") scale = 60'000;
  if (unit == "h") scale = 3'600'000;
  if (unit == "d") scale = 86'400'000;
  if (digits == 0 || ec != std::errc() || scale == 0) {
    return absl::InvalidArgumentError(StrCat(
        field, ": \"", text, "\" is not a duration; use e.g. 500ms, 30s, 5m, 1h or 2d"));
  }
  int64_t ms = 0;
  if (__builtin_mul_overflow(n, scale, &ms) || ms > int64_t{365} * 24 * 3'600'000) {
    return absl::InvalidArgumentError(StrCat(field, ": ", text, " is longer than a year"));
  }
  return milliseconds(ms);
}

absl::StatusOr<std::string> ParseListenAddress(std::string_view raw, std::string_view field,
                                               std::string_view default_host) {
  const std::string_view text = StripWhitespace(raw);
  const size_t colon = text.rfind(':');
  std::string_view host = colon == std::string_view::npos ? "" : text.substr(0, colon);
  const std::string_view port = colon == std::string_view::npos ? text : text.substr(colon + 1);
  int p = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p < 1 ||
      p > 65535) {
    return absl::InvalidArgumentError(StrCat(
        field, ": \"", text, "\" is not a listen address; use host:port, :port or port (1-65535)"));
  }
  if (host.empty()) host = default_host;
  return StrCat(host, ":", p);
}

absl::StatusOr<std::map<std::string, std::string>> ParseDotEnv(std::string_view contents) {
  std::map<std::string, std::string> out;
  int line_no = 0;
  while (!contents.empty()) {
    const size_t nl = contents.find('\n');
    std::string_view line = contents.substr(0, nl);
    contents = nl == std::string_view::npos ? std::string_view() : contents.substr(nl + 1);
    ++line_no;
    line = StripWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    if (line.rfind("export ", 0) == 0) line = StripWhitespace(line.substr(7));
    const size_t eq = line.find('=');
    const std::string_view key = eq == std::string_view::npos ? "" : StripWhitespace(line.substr(0, eq));
    if (key.empty()) {
      return absl::InvalidArgumentError(
          StrCat(".env line ", line_no, ": expected KEY=VALUE, got \"", line, "\""));
    }
    std::string_view value = StripWhitespace(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (const size_t hash = value.find(" #"); hash != std::string_view::npos) {
      value = StripWhitespace(value.substr(0, hash));
    }
    out[std::string(key)] = std::string(value);
  }
  return out;
}

absl::StatusOr<MasterConfig> LoadMasterConfig(const std::map<std::string, std::string>& environ,
                                              const std::vector<std::string>& args) {
  // Flags first (they name the .env file and win over everything).
  std::map<std::string, std::string> flags;
  std::string env_file;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(StrCat("unexpected argument \"", a, "\"; see --help"));
    }
    std::string name = a.substr(2);
    std::string value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(StrCat("--", name, ": missing value"));
    }
    if (name == "env-file") {
      env_file = value;
      continue;
    }
    bool known = false;
    for (const Setting& s : Settings()) known = known || name == s.flag;
    if (!known) return absl::InvalidArgumentError(StrCat("unknown flag --", name, "; see --help"));
    flags[name] = value;
  }

  std::map<std::string, std::string> dotenv;
  std::string dotenv_path;
  const std::vector<std::string> candidates =
      env_file.empty() ? std::vector<std::string>{".env", "../.env", "../../.env"}
                       : std::vector<std::string>{env_file};
  for (const std::string& path : candidates) {
    if (std::optional<std::string> contents = ReadFile(path)) {
      absl::StatusOr<std::map<std::string, std::string>> parsed = ParseDotEnv(*contents);
      if (!parsed.ok()) return absl::InvalidArgumentError(StrCat(path, ": ", parsed.status().message()));
      dotenv = std::move(*parsed);
      dotenv_path = path;
      break;
    }
    if (!env_file.empty()) return absl::NotFoundError(StrCat("--env-file: cannot read ", path));
  }

  MasterConfig config;
  for (const Setting& s : Settings()) {
    std::string value;
    std::string field;
    std::string origin = "default";
    if (auto it = dotenv.find(s.env); it != dotenv.end()) {
      value = it->second;
      field = StrCat(s.env, " (", dotenv_path, ")");
      origin = StrCat(".env file ", dotenv_path);
    }
    if (auto it = environ.find(s.env); it != environ.end()) {
      value = it->second;
      field = s.env;
      origin = "environment";
    }
    if (auto it = flags.find(s.flag); it != flags.end()) {
      value = it->second;
      field = StrCat("--", s.flag);
      origin = "flag";
    }
    if (origin != "default") {
      if (absl::Status st = s.apply(config, value, field); !st.ok()) return st;
    }
    config.origin[s.flag] = origin;
  }
  if (config.allocations.default_ttl > config.allocations.max_ttl) {
    return absl::InvalidArgumentError(
        StrCat("--allocation-default-ttl: ", config.allocations.default_ttl.count() / 1000,
               "s is longer than --allocation-max-ttl (", config.allocations.max_ttl.count() / 1000,
               "s)"));
  }
  const SystemInfo info = CollectSystemInfo();
  if (config.store_url.empty()) config.store_url = StrCat("sqlite:", config.state_dir, "/cloudai.db");
  if (config.master_id.empty()) config.master_id = StrCat("master-", info.hostname);
  if (config.advertise_address.empty()) {
    // A master listening on one address is reached there; one listening on every
    // address is reached on this machine's preferred one.
    const size_t colon = config.grpc_listen.rfind(':');
    const std::string host = config.grpc_listen.substr(0, colon);
    const std::string port = config.grpc_listen.substr(colon + 1);
    const bool wildcard = host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
    config.advertise_address = StrCat(wildcard ? PreferredAddress(info) : host, ":", port);
  }
  return config;
}

std::string MasterUsage() {
  std::string out = "usage: cloudai-master [--flag=value ...]\n\nflags (environment variable):\n";
  for (const Setting& s : Settings()) {
    StrAppend(&out, "  --", s.flag, " (", s.env, ")\n      ", s.help, "\n");
  }
  StrAppend(&out, "  --env-file PATH\n      read settings from PATH instead of ./.env\n");
  return out;
}

}  // namespace cloudai::master
