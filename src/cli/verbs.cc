#include "cli/verbs.h"

#include <limits>

#include "cli/cli.h"
#include "client/task_builder.h"
#include "common/strings.h"

namespace cloudai::cli {
namespace {

namespace v1 = ::cloudai::v1;

// Global flags.
const FlagSpec kMasterFlag{{"master"},
                           "HOST:PORT",
                           "the master (default: CLOUDAI_MASTER, "
                           "else localhost:50051)"};
const FlagSpec kTokenFlag{{"token"}, "TOKEN", "the admin token"};
const FlagSpec kTokenFileFlag{
    {"token-file", "token_file"}, "FILE", "read the admin token from FILE"};
const FlagSpec kOutputFlag{{"o", "output"}, "table|json", "output format (default: table)"};
const FlagSpec kHelpFlag{{"h", "help"}, "", "show help"};

// Task flags (seed 001's, plus CloudAI's).
const FlagSpec kCpuFlag{
    {"cpu_cores", "cpu-cores", "cpu"}, "CORES", "CPU cores, e.g. 1.5 or 500m (default 1.0)"};
const FlagSpec kMemFlag{
    {"mem", "memory"}, "GB", "memory in GB, or with a unit: 512Mi, 4GiB (default 0.5)"};
const FlagSpec kStorageFlag{{"storage"}, "GB", "storage in GB, or with a unit (default 1.0)"};
const FlagSpec kGpuFlag{
    {"gpu_cores", "gpu-cores", "gpu"}, "GPUS", "GPUs, e.g. 1 or 500m (default 0)"};
const FlagSpec kPriorityFlag{{"priority"}, "N", "scheduling priority; higher runs first"};
const FlagSpec kRetriesFlag{
    {"max-retries", "max_retries"}, "N", "times to run it again after a failure (default 0)"};
const FlagSpec kTimeoutFlag{
    {"timeout"}, "DURATION", "stop it after this long: 500ms, 30s, 5m, 1h (default: none)"};
const FlagSpec kEnvFlag{{"env", "e"}, "K=V", "set an environment variable (repeatable)", true};
const FlagSpec kIdFlag{{"id"}, "ID", "the task id (default: the master picks one)"};
const FlagSpec kAllocFlag{{"alloc", "allocation"},
                          "ALLOC_ID",
                          "run in this allocation's slots (cloudai alloc request)"};

// Other verb flags.
const FlagSpec kStatusFlag{{"status"},
                           "STATUS",
                           "only tasks in this state: pending, scheduled, running, "
                           "completed, failed, cancelled, lost"};
const FlagSpec kWorkerFlag{{"worker"}, "ID", "only tasks of this worker"};
const FlagSpec kLimitFlag{{"limit"}, "N", "at most N tasks (default: the master's)"};
const FlagSpec kAfterFlag{{"after"}, "TASK_ID", "the page after this task"};
const FlagSpec kFollowFlag{{"f", "follow"}, "", "follow the log until the task ends"};
const FlagSpec kOffsetFlag{{"offset"}, "BYTES", "start at this byte of the log"};

const std::vector<const FlagSpec*> kTaskFlags = {&kCpuFlag,     &kMemFlag,      &kStorageFlag,
                                                 &kGpuFlag,     &kPriorityFlag, &kRetriesFlag,
                                                 &kTimeoutFlag, &kEnvFlag,      &kIdFlag,
                                                 &kAllocFlag};

VerbResult Exit(int code) { return VerbResult{code, ""}; }
VerbResult Usage(std::string message) { return VerbResult{kExitUsage, std::move(message)}; }

VerbResult Report(const absl::Status& status, const Invocation& inv) {
  return Exit(ReportFailure(status, inv));
}

// ---------------------------------------------------------------------------------------
// Workers

VerbResult RunRegister(Invocation& inv) {
  const std::string& id = inv.args.positional[0];
  const std::string& address = inv.args.positional[1];
  if (address.find(':') == std::string::npos) {
    return Usage(StrCat("address \"", address, "\" is not IP:PORT"));
  }
  absl::StatusOr<v1::Ack> ack = inv.client.RegisterWorker(id, address);
  if (!ack.ok()) return Report(ack.status(), inv);
  if (inv.json) {
    inv.out << ToJson(*ack);
  } else {
    if (ack->message().empty()) {
      inv.out << "Worker " << id << " registered at " << address << "\n";
    } else {
      inv.out << ack->message() << "\n";
    }
  }
  return Exit(kExitOk);
}

VerbResult RunUnregister(Invocation& inv) {
  const std::string& id = inv.args.positional[0];
  absl::StatusOr<v1::Ack> ack = inv.client.UnregisterWorker(id);
  if (!ack.ok()) return Report(ack.status(), inv);
  if (inv.json) {
    inv.out << ToJson(*ack);
  } else {
    inv.out << "Worker " << id << " unregistered\n";
    if (!ack->message().empty()) inv.out << ack->message() << "\n";
  }
  return Exit(kExitOk);
}

VerbResult RunWorkers(Invocation& inv) {
  absl::StatusOr<v1::ListWorkersResponse> workers = inv.client.ListWorkers();
  if (!workers.ok()) return Report(workers.status(), inv);
  inv.out << (inv.json ? ToJson(*workers) : RenderWorkers(*workers, inv.render));
  return Exit(kExitOk);
}

VerbResult RunStats(Invocation& inv) {
  absl::StatusOr<v1::WorkerStatus> worker = inv.client.GetWorker(inv.args.positional[0]);
  if (!worker.ok()) return Report(worker.status(), inv);
  inv.out << (inv.json ? ToJson(*worker) : RenderWorkerStats(*worker, inv.render));
  return Exit(kExitOk);
}

// ---------------------------------------------------------------------------------------
// Tasks

absl::StatusOr<v1::Task> TaskFromArgs(const ParsedArgs& args, bool direct) {
  client::TaskOptions options;
  size_t next = 0;
  if (direct) options.target_worker_id = args.positional[next++];
  options.image = args.positional[next];
  options.command = client::JoinCommand(args.command);
  if (auto v = args.Get("id")) options.task_id = *v;
  if (auto v = args.Get("cpu_cores")) options.cpu_cores = *v;
  if (auto v = args.Get("mem")) options.memory = *v;
  if (auto v = args.Get("storage")) options.storage = *v;
  if (auto v = args.Get("gpu_cores")) options.gpu_cores = *v;
  if (auto v = args.Get("priority")) options.priority = *v;
  if (auto v = args.Get("max-retries")) options.max_retries = *v;
  if (auto v = args.Get("timeout")) options.timeout = *v;
  options.env = args.GetAll("env");
  if (auto v = args.Get("alloc")) options.allocation_id = *v;
  return client::BuildTask(options);
}

VerbResult RunTaskOrSubmit(Invocation& inv, bool direct) {
  absl::StatusOr<v1::Task> task = TaskFromArgs(inv.args, direct);
  if (!task.ok()) return Usage(std::string(task.status().message()));
  absl::StatusOr<v1::TaskStatus> status =
      direct ? inv.client.AssignTask(*task) : inv.client.SubmitTask(*task);
  if (!status.ok()) return Report(status.status(), inv);
  if (inv.json) {
    if (inv.created_task_id != nullptr) *inv.created_task_id = status->task().task_id();
    inv.out << ToJson(*status);
    return Exit(kExitOk);
  }
  const std::string& id = status->task().task_id();
  if (inv.created_task_id != nullptr) *inv.created_task_id = id;
  if (direct) {
    inv.out << "Task " << id << " assigned to worker "
            << (status->worker_id().empty() ? task->target_worker_id() : status->worker_id())
            << " (" << status->status() << ")\n";
  } else {
    inv.out << "Task " << id << " submitted";
    if (!task->allocation_id().empty()) inv.out << " into allocation " << task->allocation_id();
    inv.out << " (" << status->status() << ")\n";
  }
  inv.out << RenderTask(*status, inv.render);
  if (inv.in_shell) {
    inv.out << "Watch it with: monitor " << id << "\n";
  } else {
    inv.out << "Follow its log with: cloudai logs -f " << id << "\n";
  }
  return Exit(kExitOk);
}

VerbResult RunTask(Invocation& inv) { return RunTaskOrSubmit(inv, /*direct=*/true); }
VerbResult RunSubmit(Invocation& inv) { return RunTaskOrSubmit(inv, /*direct=*/false); }

VerbResult RunTasks(Invocation& inv) {
  v1::ListTasksRequest request;
  if (auto v = inv.args.Get("status")) request.set_status(*v);
  if (auto v = inv.args.Get("worker")) request.set_worker_id(*v);
  if (auto v = inv.args.Get("after")) request.set_after_task_id(*v);
  if (auto v = inv.args.Get("limit")) {
    absl::StatusOr<int64_t> limit =
        client::ParseInteger(*v, "--limit", 0, std::numeric_limits<int32_t>::max());
    if (!limit.ok()) return Usage(std::string(limit.status().message()));
    request.set_limit(static_cast<int32_t>(*limit));
  }
  absl::StatusOr<v1::ListTasksResponse> tasks = inv.client.ListTasks(request);
  if (!tasks.ok()) return Report(tasks.status(), inv);
  inv.out << (inv.json ? ToJson(*tasks) : RenderTaskList(*tasks, inv.render));
  return Exit(kExitOk);
}

VerbResult RunGet(Invocation& inv) {
  absl::StatusOr<v1::TaskStatus> task = inv.client.GetTask(inv.args.positional[0]);
  if (!task.ok()) return Report(task.status(), inv);
  inv.out << (inv.json ? ToJson(*task) : RenderTask(*task, inv.render));
  return Exit(kExitOk);
}

VerbResult RunLogs(Invocation& inv) {
  v1::TaskLogRequest request;
  request.set_task_id(inv.args.positional[0]);
  const bool follow = inv.args.Has("f");
  request.set_follow(follow);
  if (auto v = inv.args.Get("offset")) {
    absl::StatusOr<int64_t> offset =
        client::ParseInteger(*v, "--offset", 0, std::numeric_limits<int64_t>::max());
    if (!offset.ok()) return Usage(std::string(offset.status().message()));
    request.set_offset(*offset);
  }
  bool final_seen = false;
  v1::LogChunk final_chunk;
  const absl::Status status = inv.client.StreamTaskLogs(request, [&](const v1::LogChunk& c) {
    if (inv.json) {
      inv.out << ToJson(c, /*pretty=*/false);
    } else {
      inv.out << c.content();
    }
    inv.out.flush();
    if (c.is_final()) {
      final_seen = true;
      final_chunk = c;
    }
    return true;
  });
  if (!status.ok()) return Report(status, inv);
  const std::string& id = request.task_id();
  if (final_seen && !inv.json) {
    if (!final_chunk.error().empty()) {
      inv.err << "task " << id << " "
              << (final_chunk.status().empty() ? "ended" : final_chunk.status()) << ": "
              << final_chunk.error() << "\n";
    } else if (follow && final_chunk.status() != "completed") {
      inv.err << "task " << id << " ended with status "
              << (final_chunk.status().empty() ? "unknown" : final_chunk.status()) << "\n";
    }
  }
  if (!follow) return Exit(kExitOk);
  if (!final_seen) {
    inv.err << "error: the log stream of task " << id << " ended before the task did\n";
    return Exit(kExitRefused);
  }
  return Exit(final_chunk.status() == "completed" ? kExitOk : kExitRefused);
}

VerbResult RunCancel(Invocation& inv) {
  absl::StatusOr<v1::TaskStatus> task = inv.client.CancelTask(inv.args.positional[0]);
  if (!task.ok()) return Report(task.status(), inv);
  if (inv.json) {
    inv.out << ToJson(*task);
  } else {
    inv.out << "Task " << inv.args.positional[0] << ": " << task->status() << "\n";
  }
  return Exit(kExitOk);
}

VerbResult RunQueue(Invocation& inv) {
  absl::StatusOr<v1::QueueStatusResponse> queue = inv.client.QueueStatus();
  if (!queue.ok()) return Report(queue.status(), inv);
  inv.out << (inv.json ? ToJson(*queue) : RenderQueue(*queue, inv.render));
  return Exit(kExitOk);
}

}  // namespace

const std::vector<const FlagSpec*>& GlobalFlags() {
  static const std::vector<const FlagSpec*> flags = {&kMasterFlag, &kTokenFlag, &kTokenFileFlag,
                                                     &kOutputFlag, &kHelpFlag};
  return flags;
}

const std::vector<Verb>& Verbs() {
  static const char kCommandDetails[] =
      "The command is every word after the image (after `--` when it starts with a dash),\n"
      "joined with spaces; without one the image's default command runs.";
  static const std::vector<Verb> verbs = {
      {.name = "register",
       .synopsis = "<id> <ip:port>",
       .summary = "pre-register a worker; the master notifies it",
       .details = "The master records the worker and calls it at <ip:port>; the worker then\n"
                  "registers back with its resources. cloudai-worker prints the exact command.",
       .positional_names = {"<id>", "<ip:port>"},
       .min_positional = 2,
       .run = RunRegister},
      {.name = "unregister",
       .synopsis = "<id>",
       .summary = "remove a worker (refused while tasks run on it)",
       .positional_names = {"<id>"},
       .min_positional = 1,
       .run = RunUnregister},
      {.name = "workers",
       .aliases = {"list"},
       .summary = "every worker: status, address, resources, running tasks",
       .details = "For each worker: active or inactive, its address, the number of running\n"
                  "tasks, and Total / Allocated / Available for CPU, Memory, Storage and GPU.",
       .run = RunWorkers},
      {.name = "stats",
       .synopsis = "<id>",
       .summary = "one worker: usage, allocated vs total, last seen",
       .details = "Allocated % is the share of the worker's total that tasks hold; Usage % is\n"
                  "what the worker's last heartbeat measured.",
       .positional_names = {"<id>"},
       .min_positional = 1,
       .run = RunStats},
      {.name = "task",
       .synopsis = "<worker> <image> [flags] [--] [command...]",
       .summary = "run a task on the named worker now, or fail with the reason",
       .details = kCommandDetails,
       .flags = kTaskFlags,
       .positional_names = {"<worker>", "<image>"},
       .min_positional = 2,
       .takes_command = true,
       .run = RunTask},
      {.name = "submit",
       .synopsis = "<image> [flags] [--] [command...]",
       .summary = "queue a task; the scheduler places it",
       .details = kCommandDetails,
       .flags = kTaskFlags,
       .positional_names = {"<image>"},
       .min_positional = 1,
       .takes_command = true,
       .run = RunSubmit},
      {.name = "tasks",
       .synopsis = "[--status S] [--worker W] [--limit N]",
       .summary = "tasks, newest first",
       .flags = {&kStatusFlag, &kWorkerFlag, &kLimitFlag, &kAfterFlag},
       .run = RunTasks},
      {.name = "get",
       .synopsis = "<task_id>",
       .summary = "one task, with its result",
       .positional_names = {"<task_id>"},
       .min_positional = 1,
       .run = RunGet},
      {.name = "logs",
       .synopsis = "<task_id> [-f]",
       .summary = "a task's log; -f follows until it ends",
       .details = "The log is written to stdout as it is. With -f the command exits 0 when the\n"
                  "task completed and 1 when it ended otherwise.",
       .flags = {&kFollowFlag, &kOffsetFlag},
       .positional_names = {"<task_id>"},
       .min_positional = 1,
       .run = RunLogs},
      {.name = "cancel",
       .synopsis = "<task_id>",
       .summary = "cancel a queued or running task",
       .positional_names = {"<task_id>"},
       .min_positional = 1,
       .run = RunCancel},
      {.name = "queue",
       .summary = "queued tasks, in scheduling order, with why each waits",
       .run = RunQueue},
      {.name = "alloc",
       .synopsis = "request|release|get|list|extend|capacity|cleanup ...",
       .summary = "allocations: slots of worker capacity reserved for a job, with a TTL",
       .details = "An allocation reserves N slots of one size on the workers for a job, at a\n"
                  "priority, for a time to live; tasks submitted with --alloc ID run in its\n"
                  "slots. It is active once placed, or pending (with the reason) until the\n"
                  "capacity is free. See docs/allocations.md.",
       .subverbs = &AllocVerbs()},
      {.name = "mcp",
       .summary = "serve the cluster's MCP tools over stdin / stdout (for AI agents)",
       .details = "Reads MCP (JSON-RPC) messages on stdin and writes the answers on stdout;\n"
                  "nothing else is written to stdout, messages go to stderr. Each tool calls\n"
                  "the master named by --master with the admin token. Not available in the\n"
                  "shell.",
       .run = RunMcp},
  };
  return verbs;
}

const Verb* FindVerb(const std::string& name) {
  for (const Verb& verb : Verbs()) {
    if (verb.name == name) return &verb;
    for (const std::string& alias : verb.aliases) {
      if (alias == name) return &verb;
    }
  }
  return nullptr;
}

std::string HelpLeftColumn(const Verb& verb) {
  std::string left = verb.name;
  for (const std::string& alias : verb.aliases) StrAppend(&left, " (", alias, ")");
  if (verb.name.find(' ') == std::string::npos) {
    if (!verb.synopsis.empty()) StrAppend(&left, " ", verb.synopsis);
    return left;
  }
  for (const std::string& p : verb.positional_names) StrAppend(&left, " ", p);
  if (!verb.flags.empty()) left += " [flags]";
  return left;
}

const Verb* FindSubverb(const Verb& family, const std::string& word) {
  if (family.subverbs == nullptr) return nullptr;
  const std::string name = StrCat(family.name, " ", word);
  for (const Verb& verb : *family.subverbs) {
    if (verb.name == name) return &verb;
    for (const std::string& alias : verb.aliases) {
      if (alias == word) return &verb;
    }
  }
  return nullptr;
}

int ReportFailure(const absl::Status& status, const Invocation& inv) {
  return ReportFailure(status, inv.client, inv.err);
}

int ReportFailure(const absl::Status& status, const client::ClusterClient& client,
                  std::ostream& err) {
  const client::ClientOptions& options = client.options();
  const std::string message(status.message());
  if (absl::IsDeadlineExceeded(status)) {
    err << "error: the master at " << options.master_address << " did not answer in time";
    if (!message.empty()) err << ": " << message;
    err << "\n";
    return kExitUnreachable;
  }
  if (absl::IsUnavailable(status)) {
    err << "error: master at " << options.master_address << " unavailable";
    if (!message.empty()) err << ": " << message;
    err << "\n";
    return kExitUnreachable;
  }
  err << "error: " << (message.empty() ? status.ToString() : message);
  if (absl::IsUnauthenticated(status)) {
    err << " (token from " << options.token_source << ")";
  }
  err << "\n";
  return kExitRefused;
}

}  // namespace cloudai::cli
