// The `alloc` verbs of the `cloudai` command: allocations, leases on worker capacity for
// a job (docs/allocations.md). Each prints the master's reply as a summary for people, or
// as protobuf JSON with -o json.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/render.h"
#include "cli/verbs.h"
#include "client/task_builder.h"
#include "common/strings.h"

namespace cloudai::cli {
namespace {

namespace v1 = ::cloudai::v1;

const FlagSpec kWorkersFlag{{"workers"}, "N", "slots to reserve, 1 to 1000 (default 1)"};
const FlagSpec kCpuFlag{{"cpu_cores", "cpu-cores", "cpu"},
                        "CORES",
                        "CPU cores per slot, e.g. 2 or 500m (default 1)"};
const FlagSpec kMemFlag{
    {"mem", "memory"}, "GB", "memory per slot in GB, or with a unit: 512Mi, 4GiB (default 2)"};
const FlagSpec kStorageFlag{{"storage"}, "GB", "storage per slot in GB, or with a unit"};
const FlagSpec kGpuFlag{{"gpu_cores", "gpu-cores", "gpu"}, "GPUS", "GPUs per slot (default 0)"};
const FlagSpec kPriorityFlag{{"priority"},
                             "low|normal|high|critical",
                             "served in this order while pending (default normal)"};
const FlagSpec kTtlFlag{
    {"ttl"}, "DURATION", "time to live: 90s, 10m, 1h, 2d (default: the master's, 1h)"};
const FlagSpec kServiceFlag{
    {"service"}, "NAME", "start this service of the master's catalog (repeatable)", true};
const FlagSpec kMetaFlag{{"meta", "metadata"}, "K=V", "keep this pair with it (repeatable)", true};
const FlagSpec kNoWaitFlag{
    {"nowait", "no-wait"}, "", "fail instead of waiting when the capacity is not free now"};
const FlagSpec kStateFlag{{"state"},
                          "STATE",
                          "only allocations in this state: pending, active, releasing, "
                          "released, failed, expired"};
const FlagSpec kJobFlag{{"job", "job_id", "job-id"}, "JOB_ID", "only allocations of this job"};
const FlagSpec kLimitFlag{{"limit"}, "N", "at most N allocations (default: the master's)"};

VerbResult Exit(int code) { return VerbResult{code, ""}; }
VerbResult Usage(std::string message) { return VerbResult{kExitUsage, std::move(message)}; }
VerbResult Report(const absl::Status& status, const Invocation& inv) {
  return Exit(ReportFailure(status, inv));
}

// How a command is written where the user is: "cloudai alloc ..." or, in the shell,
// "alloc ...".
std::string Command(const Invocation& inv, const std::string& rest) {
  return StrCat(inv.in_shell ? "" : "cloudai ", rest);
}

VerbResult RunRequest(Invocation& inv) {
  client::AllocationOptions options;
  options.job_id = inv.args.positional[0];
  if (auto v = inv.args.Get("workers")) options.workers = *v;
  if (auto v = inv.args.Get("cpu_cores")) options.cpu_cores = *v;
  if (auto v = inv.args.Get("mem")) options.memory = *v;
  if (auto v = inv.args.Get("storage")) options.storage = *v;
  if (auto v = inv.args.Get("gpu_cores")) options.gpu_cores = *v;
  if (auto v = inv.args.Get("priority")) options.priority = *v;
  if (auto v = inv.args.Get("ttl")) options.ttl = *v;
  options.services = inv.args.GetAll("service");
  options.metadata = inv.args.GetAll("meta");
  options.wait = !inv.args.Has("nowait");
  absl::StatusOr<v1::AllocationRequest> request = client::BuildAllocationRequest(options);
  if (!request.ok()) {
    std::string message(request.status().message());
    if (message.rfind("job_id:", 0) == 0) message = StrCat("<job_id>", message.substr(6));
    return Usage(std::move(message));
  }
  absl::StatusOr<v1::Allocation> a = inv.client.RequestAllocation(*request);
  if (!a.ok()) return Report(a.status(), inv);
  if (inv.json) {
    inv.out << ToJson(*a);
    return Exit(kExitOk);
  }
  const std::string& id = a->allocation_id();
  inv.out << "Allocation " << id << " for job " << a->job_id() << ": "
          << FormatAllocationState(a->state(), inv.render.color);
  if (a->state() == "active") {
    inv.out << ", " << a->slots_size() << (a->slots_size() == 1 ? " slot" : " slots")
            << ", expires " << FormatExpiry(*a, inv.render.now_ms) << "\n";
  } else if (a->state() == "pending") {
    inv.out << ", waiting for capacity: "
            << (a->reason().empty() ? std::string("no reason given") : a->reason()) << "\n"
            << "It becomes active when the capacity is free, unless it expires first ("
            << FormatTime(a->expires_at_ms()) << ").\n";
  } else {
    inv.out << "\n";
  }
  inv.out << "\n" << RenderAllocation(*a, inv.render) << "\n";
  inv.out << "Run tasks in it with: " << Command(inv, StrCat("submit --alloc ", id, " <image> ..."))
          << "\nRelease it with:      " << Command(inv, StrCat("alloc release ", id)) << "\n";
  return Exit(kExitOk);
}

VerbResult RunRelease(Invocation& inv) {
  absl::StatusOr<v1::Allocation> a = inv.client.ReleaseAllocation(inv.args.positional[0]);
  if (!a.ok()) return Report(a.status(), inv);
  if (inv.json) {
    inv.out << ToJson(*a);
    return Exit(kExitOk);
  }
  inv.out << "Allocation " << a->allocation_id() << ": "
          << FormatAllocationState(a->state(), inv.render.color);
  if (a->state() == "releasing") inv.out << " (its tasks are being stopped)";
  inv.out << "\n";
  return Exit(kExitOk);
}

VerbResult RunGet(Invocation& inv) {
  absl::StatusOr<v1::Allocation> a = inv.client.GetAllocation(inv.args.positional[0]);
  if (!a.ok()) return Report(a.status(), inv);
  inv.out << (inv.json ? ToJson(*a) : RenderAllocation(*a, inv.render));
  return Exit(kExitOk);
}

VerbResult RunList(Invocation& inv) {
  v1::ListAllocationsRequest request;
  if (auto v = inv.args.Get("state")) request.set_state(*v);
  if (auto v = inv.args.Get("job")) request.set_job_id(*v);
  if (auto v = inv.args.Get("limit")) {
    absl::StatusOr<int64_t> limit =
        client::ParseInteger(*v, "--limit", 0, std::numeric_limits<int32_t>::max());
    if (!limit.ok()) return Usage(std::string(limit.status().message()));
    request.set_limit(static_cast<int32_t>(*limit));
  }
  absl::StatusOr<v1::ListAllocationsResponse> list = inv.client.ListAllocations(request);
  if (!list.ok()) return Report(list.status(), inv);
  inv.out << (inv.json ? ToJson(*list) : RenderAllocationList(*list, inv.render));
  return Exit(kExitOk);
}

VerbResult RunExtend(Invocation& inv) {
  absl::StatusOr<int64_t> seconds = client::ParseDurationSeconds(inv.args.positional[1], "<duration>");
  if (!seconds.ok()) return Usage(std::string(seconds.status().message()));
  absl::StatusOr<v1::Allocation> a = inv.client.ExtendAllocation(inv.args.positional[0], *seconds);
  if (!a.ok()) return Report(a.status(), inv);
  if (inv.json) {
    inv.out << ToJson(*a);
    return Exit(kExitOk);
  }
  inv.out << "Allocation " << a->allocation_id() << " now expires at "
          << FormatExpiry(*a, inv.render.now_ms) << " (TTL "
          << FormatDuration(a->ttl_seconds() * 1000) << ")\n";
  return Exit(kExitOk);
}

VerbResult RunCapacity(Invocation& inv) {
  absl::StatusOr<v1::Capacity> capacity = inv.client.GetCapacity();
  if (!capacity.ok()) return Report(capacity.status(), inv);
  inv.out << (inv.json ? ToJson(*capacity) : RenderCapacity(*capacity, inv.render));
  return Exit(kExitOk);
}

VerbResult RunCleanup(Invocation& inv) {
  absl::StatusOr<v1::CleanupResponse> cleanup = inv.client.CleanupExpiredAllocations();
  if (!cleanup.ok()) return Report(cleanup.status(), inv);
  inv.out << (inv.json ? ToJson(*cleanup) : RenderCleanup(*cleanup));
  return Exit(kExitOk);
}

}  // namespace

const std::vector<Verb>& AllocVerbs() {
  static const std::vector<Verb> verbs = {
      {.name = "alloc request",
       .synopsis = "<job_id> [--workers N] [-cpu_cores C] [-mem GB] [-gpu_cores G] "
                   "[--priority P] [--ttl 1h] [--service NAME]... [--meta K=V]... [--nowait]",
       .summary = "reserve slots of worker capacity for a job",
       .details = "Places every slot (and starts every service named) at once, or waits as\n"
                  "pending until the capacity is free; with --nowait it fails instead. It ends\n"
                  "when released or when its TTL passes. Prints its id, state, slots (worker,\n"
                  "resources), service endpoints and expiry.",
       .flags = {&kWorkersFlag, &kCpuFlag, &kMemFlag, &kStorageFlag, &kGpuFlag, &kPriorityFlag,
                 &kTtlFlag, &kServiceFlag, &kMetaFlag, &kNoWaitFlag},
       .positional_names = {"<job_id>"},
       .min_positional = 1,
       .run = RunRequest},
      {.name = "alloc release",
       .synopsis = "<alloc_id>",
       .summary = "end an allocation: cancel its tasks, free its slots",
       .positional_names = {"<alloc_id>"},
       .min_positional = 1,
       .run = RunRelease},
      {.name = "alloc get",
       .synopsis = "<alloc_id>",
       .summary = "one allocation: slots, endpoints, expiry, events",
       .positional_names = {"<alloc_id>"},
       .min_positional = 1,
       .run = RunGet},
      {.name = "alloc list",
       .synopsis = "[--state S] [--job JOB_ID] [--limit N]",
       .summary = "allocations, newest first",
       .flags = {&kStateFlag, &kJobFlag, &kLimitFlag},
       .run = RunList},
      {.name = "alloc extend",
       .synopsis = "<alloc_id> <duration>",
       .summary = "add a duration (90s, 10m, 1h, 2d) to an allocation's expiry",
       .positional_names = {"<alloc_id>", "<duration>"},
       .min_positional = 2,
       .run = RunExtend},
      {.name = "alloc capacity",
       .summary = "cluster capacity: total, allocated, reserved by allocations, services",
       .run = RunCapacity},
      {.name = "alloc cleanup",
       .summary = "expire the allocations whose TTL has passed, now",
       .run = RunCleanup},
  };
  return verbs;
}

}  // namespace cloudai::cli
