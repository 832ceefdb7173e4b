#include "mcp/tools.h"

#include <cmath>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "common/strings.h"
#include "mcp/convert.h"
#include "mcp/schema_builder.h"

namespace cloudai::mcp {
namespace {

using schema::ArrayOf;
using schema::Boolean;
using schema::Enum;
using schema::Integer;
using schema::MapOf;
using schema::Number;
using schema::Object;
using schema::Opt;
using schema::Req;
using schema::String;

// ---- Bounds (docs/allocations.md and the master's task input checks) ------------------

constexpr int64_t kMaxIdLength = 128;
constexpr int64_t kMaxWorkers = 1000;
constexpr int64_t kMaxTtlSeconds = 7 * 24 * 3600;
constexpr int64_t kMaxServices = 16;
constexpr int64_t kMaxMetadataEntries = 64;
constexpr int64_t kMaxMetadataValueLength = 4096;
constexpr int64_t kMaxImageLength = 512;
constexpr int64_t kMaxCommandLength = 64 * 1024;
constexpr int64_t kMaxEnvEntries = 256;
constexpr int64_t kMaxEnvValueLength = 8 * 1024;
constexpr int64_t kMaxTaskTimeoutSeconds = 30 * 24 * 3600;
constexpr int64_t kMaxListLimit = 1000;
constexpr int64_t kDefaultLogBytes = 64 * 1024;
constexpr int64_t kMaxLogBytes = 1024 * 1024;
constexpr int64_t kMaxLogOffset = int64_t{1} << 50;
constexpr double kMaxCpuCores = 4096;
constexpr double kMaxMemoryGb = 64 * 1024;
constexpr double kMaxStorageGb = 1024 * 1024;
constexpr double kMaxGpus = 1024;

// Allocation defaults (the master's default slot) and task defaults (the CLI's).
constexpr double kAllocationCpuCores = 1.0;
constexpr double kAllocationMemoryGb = 2.0;
constexpr double kTaskCpuCores = 1.0;
constexpr double kTaskMemoryGb = 0.5;
constexpr double kTaskStorageGb = 1.0;

const std::vector<std::string> kPriorities = {"low", "normal", "high", "critical"};
const std::vector<std::string> kAllocationStates = {"pending",  "active", "releasing",
                                                    "released", "failed", "expired"};

// ---- Argument access (arguments have passed the input schema) --------------------------

std::optional<std::string> GetString(const Json& args, const char* key) {
  auto it = args.find(key);
  if (it == args.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<double> GetNumber(const Json& args, const char* key) {
  auto it = args.find(key);
  if (it == args.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::optional<int64_t> GetInteger(const Json& args, const char* key) {
  std::optional<double> v = GetNumber(args, key);
  if (!v) return std::nullopt;
  return static_cast<int64_t>(std::llround(*v));
}

std::optional<bool> GetBool(const Json& args, const char* key) {
  auto it = args.find(key);
  if (it == args.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

// Cores or GPUs to thousandths; GB to MiB.
int64_t Milli(double v) { return static_cast<int64_t>(std::llround(v * 1000.0)); }
int64_t Mib(double gb) { return static_cast<int64_t>(std::llround(gb * 1024.0)); }

// The isError text for a Backend error: what failed, the master's reason, the code, and
// what to do about it.
absl::Status Failed(std::string_view tool, const absl::Status& status) {
  std::string text = StrCat(tool, " failed: ", status.message(), " [",
                            absl::StatusCodeToString(status.code()), "]");
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      text += ". Check the id: list_allocations, get_task and list_workers show what exists.";
      break;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      text += ". Change the argument it names and call again.";
      break;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      text += ". The master could not be reached or did not answer in time; try again shortly.";
      break;
    case absl::StatusCode::kResourceExhausted:
      text += ". The cluster lacks that capacity now: ask for less, let it wait, or try later.";
      break;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      text += ". The MCP server's admin token was refused; restart it with the right token.";
      break;
    default:
      break;
  }
  return absl::Status(status.code(), text);
}

Json Annotations(bool read_only, bool destructive, bool idempotent) {
  Json a = Json::object();
  a["readOnlyHint"] = read_only;
  if (!read_only) a["destructiveHint"] = destructive;
  a["idempotentHint"] = idempotent;
  a["openWorldHint"] = false;
  return a;
}

std::string Plural(int64_t n, std::string_view one, std::string_view many) {
  return StrCat(n, " ", n == 1 ? one : many);
}

// "1.5 CPU cores, 2 GB memory, 1 GPU" for a ResourcesJson object.
std::string DescribeResources(const Json& r) {
  auto num = [](const Json& v) {
    std::string text = DumpJson(v);
    if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);
    return text;
  };
  std::string out = StrCat(num(r.value("cpu_cores", Json(0))), " CPU cores, ",
                           num(r.value("memory_gb", Json(0))), " GB memory");
  if (r.value("gpu", 0.0) > 0) StrAppend(&out, ", ", num(r["gpu"]), " GPU");
  return out;
}

// ---- Allocations ----------------------------------------------------------------------

Json JobIdSchema() {
  return String(
      "who the allocation is for: letters, digits and . _ -, starting with a letter or digit",
      1, kMaxIdLength);
}

Json AllocationIdSchema() {
  return String("the allocation's id (\"alloc-...\"), as request_resources or "
                "list_allocations gave it",
                1, kMaxIdLength);
}

Json TaskIdSchema() {
  return String("the task's id, as submit_task gave it", 1, kMaxIdLength);
}

std::string SummarizeAllocation(const Json& a) {
  const std::string state = a.value("state", "");
  std::string out = StrCat("Allocation ", a.value("allocation_id", ""), " for job ",
                           a.value("job_id", ""), " is ", state);
  const int64_t workers = a.value("workers", int64_t{0});
  const std::string size =
      StrCat(Plural(workers, "slot", "slots"), " of ", DescribeResources(a["per_worker"]));
  if (state == "active") {
    std::string hosts;
    for (const Json& slot : a["slots"]) {
      StrAppend(&hosts, hosts.empty() ? "" : ", ", slot.value("worker_id", ""));
    }
    StrAppend(&out, ": ", size, " on ", hosts);
    if (a.contains("expires_at")) StrAppend(&out, "; expires ", a.value("expires_at", ""));
  } else if (state == "pending") {
    StrAppend(&out, " (", size, ")");
    if (!a.value("reason", "").empty()) StrAppend(&out, ": ", a.value("reason", ""));
    if (a.contains("expires_at")) StrAppend(&out, "; expires ", a.value("expires_at", ""));
  } else if (!a.value("reason", "").empty()) {
    StrAppend(&out, ": ", a.value("reason", ""));
  }
  for (const Json& e : a["endpoints"]) {
    StrAppend(&out, "; service ", e.value("service", ""), " at ",
              e.value("endpoint", "").empty() ? "(starting)" : e.value("endpoint", ""));
  }
  return out + ".";
}

absl::StatusOr<Json> RequestResources(Backend& backend, const Json& args) {
  v1::AllocationRequest request;
  request.set_job_id(GetString(args, "job_id").value_or(""));
  if (auto it = args.find("services"); it != args.end()) {
    for (const Json& s : *it) request.add_services(s.get<std::string>());
  }
  request.set_workers(static_cast<int32_t>(GetInteger(args, "workers").value_or(1)));
  request.set_priority(GetString(args, "priority").value_or("normal"));
  request.set_ttl_seconds(GetInteger(args, "ttl_seconds").value_or(0));
  v1::Resources* slot = request.mutable_per_worker();
  slot->set_cpu(Milli(GetNumber(args, "cpu_cores").value_or(kAllocationCpuCores)));
  slot->set_memory(Mib(GetNumber(args, "memory_gb").value_or(kAllocationMemoryGb)));
  slot->set_storage(Mib(GetNumber(args, "storage_gb").value_or(0)));
  slot->set_gpu(Milli(GetNumber(args, "gpu").value_or(0)));
  if (slot->cpu() == 0 && slot->memory() == 0 && slot->gpu() == 0) {
    return absl::InvalidArgumentError(
        "cpu_cores, memory_gb and gpu: a slot must ask for something; give cpu_cores of at "
        "least 0.001 or memory_gb of at least 0.001");
  }
  if (auto it = args.find("metadata"); it != args.end()) {
    for (auto m = it->begin(); m != it->end(); ++m) {
      (*request.mutable_metadata())[m.key()] = m.value().get<std::string>();
    }
  }
  if (std::optional<bool> wait = GetBool(args, "wait")) request.set_wait(*wait);
  absl::StatusOr<v1::Allocation> allocation = backend.RequestAllocation(request);
  if (!allocation.ok()) return Failed("request_resources", allocation.status());
  return AllocationJson(*allocation);
}

absl::StatusOr<Json> ReleaseResources(Backend& backend, const Json& args) {
  v1::AllocationId id;
  id.set_allocation_id(GetString(args, "allocation_id").value_or(""));
  absl::StatusOr<v1::Allocation> allocation = backend.ReleaseAllocation(id);
  if (!allocation.ok()) return Failed("release_resources", allocation.status());
  return AllocationJson(*allocation);
}

absl::StatusOr<Json> GetAllocation(Backend& backend, const Json& args) {
  v1::AllocationId id;
  id.set_allocation_id(GetString(args, "allocation_id").value_or(""));
  absl::StatusOr<v1::Allocation> allocation = backend.GetAllocation(id);
  if (!allocation.ok()) return Failed("get_allocation", allocation.status());
  return AllocationJson(*allocation);
}

absl::StatusOr<Json> ExtendAllocation(Backend& backend, const Json& args) {
  v1::ExtendAllocationRequest request;
  request.set_allocation_id(GetString(args, "allocation_id").value_or(""));
  request.set_extend_seconds(GetInteger(args, "extend_seconds").value_or(0));
  absl::StatusOr<v1::Allocation> allocation = backend.ExtendAllocation(request);
  if (!allocation.ok()) return Failed("extend_allocation", allocation.status());
  return AllocationJson(*allocation);
}

absl::StatusOr<Json> ListAllocations(Backend& backend, const Json& args) {
  v1::ListAllocationsRequest request;
  request.set_state(GetString(args, "state").value_or(""));
  request.set_job_id(GetString(args, "job_id").value_or(""));
  request.set_limit(static_cast<int32_t>(GetInteger(args, "limit").value_or(0)));
  absl::StatusOr<v1::ListAllocationsResponse> response = backend.ListAllocations(request);
  if (!response.ok()) return Failed("list_allocations", response.status());
  return AllocationListJson(*response);
}

std::string SummarizeAllocationList(const Json& r) {
  std::string out = Plural(r.value("count", int64_t{0}), "allocation", "allocations");
  std::map<std::string, int> states;
  for (const Json& a : r["allocations"]) ++states[a.value("state", "")];
  bool first = true;
  for (const auto& [state, n] : states) {
    StrAppend(&out, first ? ": " : ", ", n, " ", state);
    first = false;
  }
  return out + ".";
}

absl::StatusOr<Json> GetCapacity(Backend& backend, const Json&) {
  absl::StatusOr<v1::Capacity> capacity = backend.GetCapacity();
  if (!capacity.ok()) return Failed("get_capacity", capacity.status());
  return CapacityJson(*capacity);
}

std::string SummarizeCapacity(const Json& c) {
  return StrCat(c.value("workers_active", int64_t{0}), " of ",
                Plural(c.value("workers_total", int64_t{0}), "worker", "workers"),
                " active; available ", DescribeResources(c["available"]), " of ",
                DescribeResources(c["total"]), "; ",
                c.value("active_allocations", int64_t{0}), " active and ",
                c.value("pending_allocations", int64_t{0}), " pending allocations.");
}

absl::StatusOr<Json> CleanupExpired(Backend& backend, const Json&) {
  absl::StatusOr<v1::CleanupResponse> response = backend.CleanupExpiredAllocations();
  if (!response.ok()) return Failed("cleanup_expired_allocations", response.status());
  return CleanupJson(*response);
}

std::string SummarizeCleanup(const Json& r) {
  std::string out;
  const Json& expired = r["expired_allocation_ids"];
  if (expired.empty()) {
    out = "Nothing had expired";
  } else {
    out = StrCat("Expired ", Plural(static_cast<int64_t>(expired.size()), "allocation", "allocations"), ":");
    for (const Json& id : expired) StrAppend(&out, " ", id.get<std::string>());
  }
  if (!r["stopped_services"].empty()) {
    StrAppend(&out, "; stopped services:");
    for (const Json& s : r["stopped_services"]) StrAppend(&out, " ", s.get<std::string>());
  }
  StrAppend(&out, "; ", r.value("active_allocations", int64_t{0}), " still active.");
  return out;
}

// ---- Tasks ----------------------------------------------------------------------------

std::string SummarizeTask(const Json& t) {
  std::string out = StrCat("Task ", t.value("task_id", ""), " is ", t.value("status", ""));
  if (t.contains("exit_code")) StrAppend(&out, " (exit code ", t.value("exit_code", 0), ")");
  if (!t.value("worker_id", "").empty()) StrAppend(&out, " on ", t.value("worker_id", ""));
  if (!t.value("allocation_id", "").empty()) {
    StrAppend(&out, " in ", t.value("allocation_id", ""));
  }
  if (!t.value("error", "").empty()) StrAppend(&out, ": ", t.value("error", ""));
  else if (!t.value("last_error", "").empty()) StrAppend(&out, ": ", t.value("last_error", ""));
  return out + ".";
}

absl::StatusOr<Json> SubmitTask(Backend& backend, const Json& args) {
  v1::Task task;
  task.set_docker_image(GetString(args, "docker_image").value_or(""));
  task.set_command(GetString(args, "command").value_or(""));
  task.set_allocation_id(GetString(args, "allocation_id").value_or(""));
  // Resources not given: one whole slot in an allocation, else the CLI's defaults.
  v1::Resources size;
  size.set_cpu(Milli(kTaskCpuCores));
  size.set_memory(Mib(kTaskMemoryGb));
  size.set_storage(Mib(kTaskStorageGb));
  const bool all_given = args.contains("cpu_cores") && args.contains("memory_gb") &&
                         args.contains("storage_gb") && args.contains("gpu");
  if (!task.allocation_id().empty() && !all_given) {
    v1::AllocationId id;
    id.set_allocation_id(task.allocation_id());
    absl::StatusOr<v1::Allocation> allocation = backend.GetAllocation(id);
    if (!allocation.ok()) return Failed("submit_task", allocation.status());
    size = allocation->per_worker();
  }
  task.set_req_cpu(GetNumber(args, "cpu_cores") ? Milli(*GetNumber(args, "cpu_cores")) : size.cpu());
  task.set_req_memory(GetNumber(args, "memory_gb") ? Mib(*GetNumber(args, "memory_gb"))
                                                   : size.memory());
  task.set_req_storage(GetNumber(args, "storage_gb") ? Mib(*GetNumber(args, "storage_gb"))
                                                     : size.storage());
  task.set_req_gpu(GetNumber(args, "gpu") ? Milli(*GetNumber(args, "gpu")) : size.gpu());
  task.set_target_worker_id(GetString(args, "target_worker_id").value_or(""));
  task.set_priority(TaskPriorityValue(GetString(args, "priority").value_or("normal")));
  task.set_timeout_ms(GetInteger(args, "timeout_seconds").value_or(0) * 1000);
  if (auto it = args.find("env"); it != args.end()) {
    for (auto e = it->begin(); e != it->end(); ++e) {
      if (e.key().empty() || e.key().find('=') != std::string::npos) {
        return absl::InvalidArgumentError(
            StrCat("env: variable name \"", e.key(), "\" must be non-empty and without '='"));
      }
      (*task.mutable_env())[e.key()] = e.value().get<std::string>();
    }
  }
  absl::StatusOr<v1::TaskStatus> status = backend.SubmitTask(task);
  if (!status.ok()) return Failed("submit_task", status.status());
  return TaskStatusJson(*status);
}

absl::StatusOr<Json> GetTask(Backend& backend, const Json& args) {
  absl::StatusOr<v1::TaskStatus> status = backend.GetTask(GetString(args, "task_id").value_or(""));
  if (!status.ok()) return Failed("get_task", status.status());
  return TaskStatusJson(*status);
}

absl::StatusOr<Json> CancelTask(Backend& backend, const Json& args) {
  absl::StatusOr<v1::TaskStatus> status =
      backend.CancelTask(GetString(args, "task_id").value_or(""));
  if (!status.ok()) return Failed("cancel_task", status.status());
  return TaskStatusJson(*status);
}

absl::StatusOr<Json> GetTaskLogs(Backend& backend, const Json& args) {
  const std::string task_id = GetString(args, "task_id").value_or("");
  const int64_t offset = GetInteger(args, "offset").value_or(0);
  const int64_t max_bytes = GetInteger(args, "max_bytes").value_or(kDefaultLogBytes);
  absl::StatusOr<LogSlice> slice = backend.GetTaskLogs(task_id, offset, max_bytes);
  if (!slice.ok()) return Failed("get_task_logs", slice.status());
  // A slice that ends inside a UTF-8 character stops before it; the next read starts there.
  if (!slice->final) {
    const size_t whole = WholeUtf8Prefix(slice->content);
    if (whole > 0 && whole < slice->content.size()) {
      slice->next_offset -= static_cast<int64_t>(slice->content.size() - whole);
      slice->content.resize(whole);
    }
  }
  return LogSliceJson(task_id, offset, *slice);
}

std::string SummarizeLogs(const Json& r) {
  const int64_t offset = r.value("offset", int64_t{0});
  const int64_t next = r.value("next_offset", int64_t{0});
  std::string out = StrCat(Plural(next - offset, "byte", "bytes"), " of task ",
                           r.value("task_id", ""), "'s log from offset ", offset, " (task ",
                           r.value("status", ""), ")");
  StrAppend(&out, r.value("final", false)
                      ? "; that is the whole log."
                      : StrCat("; call again with offset ", next, " for more."));
  return out;
}

// ---- Workers --------------------------------------------------------------------------

absl::StatusOr<Json> ListWorkers(Backend& backend, const Json&) {
  absl::StatusOr<v1::ListWorkersResponse> response = backend.ListWorkers();
  if (!response.ok()) return Failed("list_workers", response.status());
  return WorkersJson(*response);
}

std::string SummarizeWorkers(const Json& r) {
  int64_t active = 0;
  for (const Json& w : r["workers"]) active += w.value("active", false) ? 1 : 0;
  return StrCat(Plural(r.value("count", int64_t{0}), "worker", "workers"), ", ", active,
                " active.");
}

// ---- The table ------------------------------------------------------------------------

std::vector<Tool> BuildTools() {
  std::vector<Tool> tools;
  const Json no_arguments = Object({}, true);

  tools.push_back(Tool{
      "request_resources", "Request resources (allocation)",
      "Reserve capacity on the cluster's workers for a job: `workers` slots, each of "
      "cpu_cores, memory_gb and gpu, at a priority, for ttl_seconds, optionally starting "
      "services from the master's catalog. Placement is all or nothing. Returns the "
      "allocation: state \"active\" with its slots, or \"pending\" while it waits for "
      "capacity (with wait=false it fails instead). Run work in it with "
      "submit_task(allocation_id=...), and end it with release_resources when done; "
      "otherwise it expires after ttl_seconds.",
      Object({Req("job_id", JobIdSchema()),
              Opt("workers", Integer("slots to reserve; default 1", 1, kMaxWorkers)),
              Opt("cpu_cores", Number("CPU cores per slot, fractions allowed (1.5); default 1",
                                      0.001, kMaxCpuCores)),
              Opt("memory_gb", Number("memory per slot in GB (GiB), fractions allowed; "
                                      "default 2",
                                      0.001, kMaxMemoryGb)),
              Opt("storage_gb", Number("storage per slot in GB (GiB); default 0 (tasks in "
                                       "it then ask for none)",
                                       0, kMaxStorageGb)),
              Opt("gpu", Number("GPUs per slot; default 0", 0, kMaxGpus)),
              Opt("priority", Enum("pending allocations are served by priority, then age; "
                                   "default normal",
                                   kPriorities)),
              Opt("ttl_seconds", Integer("time to live in seconds from now; default the "
                                         "master's (1 hour); at most 7 days",
                                         1, kMaxTtlSeconds)),
              Opt("services", ArrayOf(String("", 1, kMaxIdLength),
                                      "names from the master's service catalog to start "
                                      "for it",
                                      kMaxServices)),
              Opt("metadata", MapOf(String("", std::nullopt, kMaxMetadataValueLength),
                                    "string pairs kept with it (keys up to 128 characters)",
                                    kMaxMetadataEntries)),
              Opt("wait", Boolean("true (default): when capacity is short it waits as "
                                  "\"pending\"; false: fail at once instead"))},
             true),
      AllocationSchema(), Annotations(false, false, false), RequestResources,
      SummarizeAllocation});

  tools.push_back(Tool{
      "release_resources", "Release an allocation",
      "End an allocation: its queued tasks are cancelled, its running tasks are stopped, "
      "then its slots are freed. Releasing an allocation that has already ended "
      "(released, expired or failed) is an error and changes nothing.",
      Object({Req("allocation_id", AllocationIdSchema())}, true), AllocationSchema(),
      Annotations(false, true, false), ReleaseResources, SummarizeAllocation});

  tools.push_back(Tool{
      "extend_allocation", "Extend an allocation",
      "Add seconds to a pending or active allocation's expiry time (its whole time to "
      "live stays within the master's maximum, 7 days by default).",
      Object({Req("allocation_id", AllocationIdSchema()),
              Req("extend_seconds",
                  Integer("seconds to add to its expiry", 1, kMaxTtlSeconds))},
             true),
      AllocationSchema(), Annotations(false, false, false), ExtendAllocation,
      SummarizeAllocation});

  tools.push_back(Tool{
      "get_capacity", "Cluster capacity",
      "The cluster's capacity now: totals over active workers, what tasks and allocation "
      "slots hold, what is free, counts of active and pending allocations, and the "
      "running services.",
      no_arguments, CapacitySchema(), Annotations(true, false, true), GetCapacity,
      SummarizeCapacity});

  tools.push_back(Tool{
      "get_allocation", "Get an allocation",
      "One allocation: its state, slots (worker and size), service endpoints, unfinished "
      "tasks, expiry and history (events).",
      Object({Req("allocation_id", AllocationIdSchema())}, true), AllocationSchema(),
      Annotations(true, false, true), GetAllocation, SummarizeAllocation});

  tools.push_back(Tool{
      "list_allocations", "List allocations",
      "Allocations, newest first, optionally only those in one state or of one job.",
      Object({Opt("state", Enum("only allocations in this state", kAllocationStates)),
              Opt("job_id", String("only allocations of this job", 1, kMaxIdLength)),
              Opt("limit", Integer("at most this many; default the master's", 1, kMaxListLimit))},
             true),
      AllocationListSchema(), Annotations(true, false, true), ListAllocations,
      SummarizeAllocationList});

  tools.push_back(Tool{
      "cleanup_expired_allocations", "Expire allocations now",
      "Run the expiry pass now (the master also runs it periodically): every allocation "
      "past its time to live ends as a release would, and services no live allocation "
      "names any more are stopped. Returns the ids of the allocations it expired.",
      no_arguments, CleanupSchema(), Annotations(false, true, true), CleanupExpired,
      SummarizeCleanup});

  tools.push_back(Tool{
      "submit_task", "Submit a task",
      "Run a command on the cluster. With allocation_id it runs in that allocation's "
      "reserved slots and must fit in one slot (resources not given default to a whole "
      "slot); without, in the general pool. Returns "
      "the task (at first \"pending\"); poll get_task until it is completed, failed or "
      "cancelled, and read its output with get_task_logs.",
      Object({Req("docker_image",
                  String("the container image to run (e.g. busybox:latest); on workers with "
                         "the exec driver any name, the command runs on the host",
                         1, kMaxImageLength)),
              Opt("command", String("shell command line, run with /bin/sh -c; empty: the "
                                    "image's default command",
                                    std::nullopt, kMaxCommandLength)),
              Opt("cpu_cores", Number("CPU cores, fractions allowed; default 1 (in an "
                                      "allocation: one slot's)",
                                      0.001, kMaxCpuCores)),
              Opt("memory_gb", Number("memory in GB (GiB), fractions allowed; default 0.5 "
                                      "(in an allocation: one slot's)",
                                      0.001, kMaxMemoryGb)),
              Opt("storage_gb", Number("storage in GB (GiB); default 1 (in an allocation: "
                                       "one slot's)",
                                       0, kMaxStorageGb)),
              Opt("gpu", Number("GPUs; default 0 (in an allocation: one slot's)", 0,
                                kMaxGpus)),
              Opt("allocation_id", String("run in this allocation's slots (from "
                                          "request_resources); absent: the general pool",
                                          1, kMaxIdLength)),
              Opt("priority", Enum("queue order, higher first: low -100, normal 0 "
                                   "(default), high 100, critical 1000",
                                   kPriorities)),
              Opt("env", MapOf(String("", std::nullopt, kMaxEnvValueLength),
                               "environment variables", kMaxEnvEntries)),
              Opt("timeout_seconds", Integer("stop it after this many seconds; 0 or absent: "
                                             "no limit; at most 30 days",
                                             0, kMaxTaskTimeoutSeconds)),
              Opt("target_worker_id", String("run on this worker (in an allocation: one of "
                                             "its workers)",
                                             1, kMaxIdLength))},
             true),
      TaskStatusSchema(), Annotations(false, false, false), SubmitTask, SummarizeTask});

  tools.push_back(Tool{
      "get_task", "Get a task",
      "A task's state (pending, scheduled, running, completed, failed, cancelled or lost), "
      "its worker, times, exit_code once its command has exited, and error when it "
      "failed.",
      Object({Req("task_id", TaskIdSchema())}, true), TaskStatusSchema(),
      Annotations(true, false, true), GetTask, SummarizeTask});

  tools.push_back(Tool{
      "get_task_logs", "Read a task's output",
      "Read a task's output (stdout and stderr together) from a byte offset, without "
      "waiting for more. Call again with offset=next_offset for the rest; final is true "
      "once the task has ended and everything has been read.",
      Object({Req("task_id", TaskIdSchema()),
              Opt("offset", Integer("byte offset to read from; default 0", 0, kMaxLogOffset)),
              Opt("max_bytes", Integer("at most this many bytes; default 65536", 1,
                                       kMaxLogBytes))},
             true),
      LogSliceSchema(), Annotations(true, false, true), GetTaskLogs, SummarizeLogs});

  tools.push_back(Tool{
      "cancel_task", "Cancel a task",
      "Cancel a queued or running task (a running one is stopped on its worker). Returns "
      "the task's state after the request.",
      Object({Req("task_id", TaskIdSchema())}, true), TaskStatusSchema(),
      Annotations(false, true, true), CancelTask, SummarizeTask});

  tools.push_back(Tool{
      "list_workers", "List workers",
      "The cluster's workers: address, driver, whether active, total, allocated and "
      "available resources, usage and running tasks.",
      no_arguments, WorkersSchema(), Annotations(true, false, true), ListWorkers,
      SummarizeWorkers});
  return tools;
}

}  // namespace

int32_t TaskPriorityValue(std::string_view name) {
  if (name == "low") return -100;
  if (name == "high") return 100;
  if (name == "critical") return 1000;
  return 0;
}

const std::vector<Tool>& Tools() {
  static const std::vector<Tool>* const tools = new std::vector<Tool>(BuildTools());
  return *tools;
}

const Tool* FindTool(std::string_view name) {
  for (const Tool& tool : Tools()) {
    if (tool.name == name) return &tool;
  }
  return nullptr;
}

Json ToolListResult() {
  Json list = Json::array();
  for (const Tool& tool : Tools()) {
    Json t = Json::object();
    t["name"] = tool.name;
    t["title"] = tool.title;
    t["description"] = tool.description;
    t["inputSchema"] = tool.input_schema;
    t["outputSchema"] = tool.output_schema;
    Json annotations = tool.annotations;
    annotations["title"] = tool.title;
    t["annotations"] = std::move(annotations);
    list.push_back(std::move(t));
  }
  Json result = Json::object();
  result["tools"] = std::move(list);
  return result;
}

Json ToolErrorResult(const std::string& text) {
  Json item = Json::object();
  item["type"] = "text";
  item["text"] = text;
  Json result = Json::object();
  result["content"] = Json::array({item});
  result["isError"] = true;
  return result;
}

Json CallTool(Backend& backend, const Tool& tool, const Json& arguments) {
  try {
    const Json args = arguments.is_null() ? Json::object() : arguments;
    if (std::string error = CheckValue(tool.input_schema, args); !error.empty()) {
      return ToolErrorResult(StrCat("Invalid arguments for ", tool.name, ": ", error, "."));
    }
    absl::StatusOr<Json> structured = tool.run(backend, args);
    if (!structured.ok()) {
      std::string text(structured.status().message());
      if (structured.status().code() == absl::StatusCode::kInvalidArgument &&
          text.rfind(tool.name, 0) != 0) {
        text = StrCat("Invalid arguments for ", tool.name, ": ", text, ".");
      }
      return ToolErrorResult(text);
    }
    Json json_item = Json::object();
    json_item["type"] = "text";
    json_item["text"] = DumpJson(*structured);
    Json summary_item = Json::object();
    summary_item["type"] = "text";
    summary_item["text"] = tool.summarize ? tool.summarize(*structured) : std::string();
    Json result = Json::object();
    result["content"] = Json::array({json_item, summary_item});
    result["structuredContent"] = std::move(*structured);
    result["isError"] = false;
    return result;
  } catch (const std::exception& e) {
    return ToolErrorResult(StrCat(tool.name, " failed inside the MCP server: ", e.what()));
  } catch (...) {
    return ToolErrorResult(StrCat(tool.name, " failed inside the MCP server"));
  }
}

}  // namespace cloudai::mcp
