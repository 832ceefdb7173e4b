#include "worker/agent/agent_options.h"

#include <cctype>
#include <charconv>
#include <map>

#include "common/strings.h"
#include "common/system_info.h"

namespace cloudai::worker {
namespace {

absl::StatusOr<int64_t> ParseInt(std::string_view text, std::string_view flag) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(
        StrCat(flag, ": \"", text, "\" is not an integer"));
  }
  return v;
}

}  // namespace

std::string AgentUsage() {
  return "usage: cloudai-worker [--id ID] [--port N] [--listen-host H] [--advertise-host H]\n"
         "                      [--driver auto|docker|exec] [--work-dir DIR]\n"
         "                      [--master HOST:PORT] [--heartbeat-interval 5s]\n"
         "                      [--docker-host URL] [--max-log-bytes N]\n"
         "\n"
         "  --id ID                  worker id (default: the hostname)\n"
         "  --port N                 first port tried; the first free one of it and the next\n"
         "                           100 is used (default 50052; 0: any free port)\n"
         "  --listen-host H          address to listen on (default 0.0.0.0)\n"
         "  --advertise-host H       host put in the worker's address (default: the first\n"
         "                           non-loopback IPv4 address)\n"
         "  --driver D               auto (docker when the engine answers, else exec),\n"
         "                           docker or exec (default auto)\n"
         "  --work-dir DIR           task spools, exec working directory and the last\n"
         "                           master address (default ./cloudai-worker-<id>)\n"
         "  --master HOST:PORT       register with this master at start (default: the\n"
         "                           address saved in <work-dir>/master, if any)\n"
         "  --heartbeat-interval T   time between heartbeats: 200ms, 5s, 1m (default 5s)\n"
         "  --docker-host URL        Docker endpoint, unix:///path or tcp://host:port\n"
         "                           (default $DOCKER_HOST, else /var/run/docker.sock)\n"
         "  --max-log-bytes N        log bytes carried by a completion report (default\n"
         "                           1048576, at most 3145728)\n"
         "  --help                   this text\n";
}

absl::StatusOr<std::chrono::milliseconds> ParseAgentDuration(std::string_view text,
                                                             std::string_view flag) {
  static const std::map<std::string_view, int64_t> kUnits = {
      {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"", 1000}};
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
    ++digits;
  }
  auto unit = kUnits.find(text.substr(digits));
  if (digits == 0 || digits > 12 || unit == kUnits.end()) {
    return absl::InvalidArgumentError(
        StrCat(flag, ": \"", text, "\" is not a duration (e.g. 200ms, 5s, 1m)"));
  }
  int64_t n = 0;
  std::from_chars(text.data(), text.data() + digits, n);
  if (n <= 0) return absl::InvalidArgumentError(StrCat(flag, ": must be greater than 0"));
  return std::chrono::milliseconds(n * unit->second);
}

absl::Status ValidateId(std::string_view id, std::string_view field) {
  if (id.empty() || id.size() > 128) {
    return absl::InvalidArgumentError(StrCat(field, ": must be 1 to 128 characters long"));
  }
  if (!std::isalnum(static_cast<unsigned char>(id[0]))) {
    return absl::InvalidArgumentError(
        StrCat(field, ": \"", id, "\" must start with a letter or digit"));
  }
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return absl::InvalidArgumentError(
          StrCat(field, ": \"", id, "\" may hold only letters, digits, '_', '.' and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ParsedFlags> ParseAgentFlags(const std::vector<std::string>& args) {
  ParsedFlags parsed;
  AgentOptions& o = parsed.options;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h" || arg == "-help") {
      parsed.help = true;
      return parsed;
    }
    if (arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(StrCat("unexpected argument \"", arg, "\""));
    }
    std::string flag(arg);
    std::string value;
    if (size_t eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    } else {
      static const char* kKnown[] = {"--id",          "--port",         "--listen-host",
                                     "--advertise-host", "--driver",    "--work-dir",
                                     "--master",      "--heartbeat-interval", "--docker-host",
                                     "--max-log-bytes"};
      bool known = false;
      for (const char* k : kKnown) known = known || flag == k;
      if (!known) return absl::InvalidArgumentError(StrCat("unknown flag ", flag));
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(StrCat(flag, ": needs a value"));
      }
      value = args[++i];
    }
    if (flag == "--id") {
      if (absl::Status s = ValidateId(value, "--id"); !s.ok()) return s;
      o.worker_id = value;
    } else if (flag == "--port") {
      absl::StatusOr<int64_t> port = ParseInt(value, "--port");
      if (!port.ok()) return port.status();
      if (*port < 0 || *port > 65535) {
        return absl::InvalidArgumentError(StrCat("--port: ", *port, " is not in [0, 65535]"));
      }
      o.port = static_cast<int>(*port);
    } else if (flag == "--listen-host") {
      if (value.empty()) return absl::InvalidArgumentError("--listen-host: must not be empty");
      o.listen_host = value;
    } else if (flag == "--advertise-host") {
      if (value.empty() || value.find_first_of(" /") != std::string::npos) {
        return absl::InvalidArgumentError(
            StrCat("--advertise-host: \"", value, "\" is not a host name or address"));
      }
      o.advertise_host = value;
    } else if (flag == "--driver") {
      if (value != "auto" && value != "docker" && value != "exec") {
        return absl::InvalidArgumentError(
            StrCat("--driver: \"", value, "\" is not one of auto, docker, exec"));
      }
      o.driver = value;
    } else if (flag == "--work-dir") {
      if (value.empty()) return absl::InvalidArgumentError("--work-dir: must not be empty");
      o.work_dir = value;
    } else if (flag == "--master") {
      const size_t colon = value.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
        return absl::InvalidArgumentError(
            StrCat("--master: \"", value, "\" is not HOST:PORT"));
      }
      o.master_address = value;
    } else if (flag == "--heartbeat-interval") {
      absl::StatusOr<std::chrono::milliseconds> d =
          ParseAgentDuration(value, "--heartbeat-interval");
      if (!d.ok()) return d.status();
      o.heartbeat_interval = *d;
    } else if (flag == "--docker-host") {
      o.docker_host = value;
    } else if (flag == "--max-log-bytes") {
      absl::StatusOr<int64_t> n = ParseInt(value, "--max-log-bytes");
      if (!n.ok()) return n.status();
      if (*n < 1024 || *n > kMaxReportLogBytes) {
        return absl::InvalidArgumentError(
            StrCat("--max-log-bytes: ", *n, " is not in [1024, ", kMaxReportLogBytes, "]"));
      }
      o.max_log_bytes = *n;
    } else {
      return absl::InvalidArgumentError(StrCat("unknown flag ", flag));
    }
  }
  const SystemInfo host = CollectSystemInfo();
  if (o.worker_id.empty()) {
    o.worker_id = host.hostname;
    if (absl::Status s = ValidateId(o.worker_id, "--id (the hostname)"); !s.ok()) return s;
  }
  if (o.advertise_host.empty()) o.advertise_host = PreferredAddress(host);
  if (o.work_dir.empty()) o.work_dir = StrCat("./cloudai-worker-", o.worker_id);
  if (o.port == 0) o.port_attempts = 1;
  return parsed;
}

}  // namespace cloudai::worker
