#include "cli/render.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "common/quantity.h"
#include "common/strings.h"
#include "google/protobuf/util/json_util.h"

namespace cloudai::cli {
namespace {

constexpr char kGreen[] = "\033[32m";
constexpr char kRed[] = "\033[31m";
constexpr char kYellow[] = "\033[33m";
constexpr char kReset[] = "\033[0m";

std::string Colored(const std::string& text, const char* color, bool enabled) {
  if (!enabled || color == nullptr) return text;
  return StrCat(color, text, kReset);
}

const char* WorkerColor(bool active) { return active ? kGreen : kRed; }

const char* TaskColor(const std::string& status) {
  if (status == "completed") return kGreen;
  if (status == "failed" || status == "lost") return kRed;
  if (status == "cancelled") return kYellow;
  return nullptr;
}

const char* AllocationColor(const std::string& state) {
  if (state == "active") return kGreen;
  if (state == "pending") return kYellow;
  if (state == "failed" || state == "expired") return kRed;
  return nullptr;
}

bool IsLiveAllocation(const std::string& state) { return state == "pending" || state == "active"; }

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// "k1=v1 k2=v2", sorted by key.
std::string JoinMap(const google::protobuf::Map<std::string, std::string>& map) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : map) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  std::string out;
  for (const std::string& k : keys) {
    if (!out.empty()) out += " ";
    StrAppend(&out, k, "=", map.at(k));
  }
  return out;
}

bool IsFinished(const std::string& status) {
  return status == "completed" || status == "failed" || status == "cancelled" || status == "lost";
}

// "12.5%"
std::string Percent(double value) {
  if (!(value >= 0)) value = 0;  // NaN too
  const int64_t tenths = static_cast<int64_t>(value * 10 + 0.5);
  return StrCat(tenths / 10, ".", tenths % 10, "%");
}

std::string PercentOf(int64_t part, int64_t total) {
  if (total <= 0) return "-";
  return Percent(100.0 * static_cast<double>(part) / static_cast<double>(total));
}

// A "label:" column padded for key/value blocks.
void Field(std::string* out, std::string_view label, const std::string& value) {
  std::string key = StrCat(label, ":");
  if (key.size() < 15) key.resize(15, ' ');
  StrAppend(out, key, value, "\n");
}

struct ResourceRow {
  std::string name;
  std::string total;
  std::string allocated;
  std::string available;
  int64_t total_raw;
  int64_t allocated_raw;
  double usage;  // < 0: none reported
};

std::vector<ResourceRow> ResourceRows(const v1::WorkerStatus& w) {
  const v1::WorkerInfo& info = w.info();
  const v1::Resources& alloc = w.allocated();
  const v1::Resources& avail = w.available();
  std::vector<ResourceRow> rows = {
      {"CPU", FormatMillis(info.total_cpu()), FormatMillis(alloc.cpu()), FormatMillis(avail.cpu()),
       info.total_cpu(), alloc.cpu(), w.cpu_usage()},
      {"Memory", FormatGb(info.total_memory()), FormatGb(alloc.memory()), FormatGb(avail.memory()),
       info.total_memory(), alloc.memory(), w.memory_usage()},
      {"Storage", FormatGb(info.total_storage()), FormatGb(alloc.storage()),
       FormatGb(avail.storage()), info.total_storage(), alloc.storage(), w.storage_usage()},
      {"GPU", FormatMillis(info.total_gpu()), FormatMillis(alloc.gpu()), FormatMillis(avail.gpu()),
       info.total_gpu(), alloc.gpu(), w.gpu_usage()},
  };
  std::set<std::string> extras;
  for (const auto& [name, n] : info.total_extra()) extras.insert(name);
  for (const auto& [name, n] : alloc.extra()) extras.insert(name);
  for (const std::string& name : extras) {
    const auto get = [&](const google::protobuf::Map<std::string, int64_t>& m) -> int64_t {
      auto it = m.find(name);
      return it == m.end() ? 0 : it->second;
    };
    const int64_t total = get(info.total_extra());
    const int64_t allocated = get(alloc.extra());
    rows.push_back(
        {name, StrCat(total), StrCat(allocated), StrCat(get(avail.extra())), total, allocated, -1});
  }
  return rows;
}

std::string RunningTasks(const v1::WorkerStatus& w) {
  std::string out = StrCat(w.running_task_ids_size());
  if (w.running_task_ids_size() > 0) {
    out += " (";
    for (int i = 0; i < w.running_task_ids_size(); ++i) {
      if (i > 0) out += ", ";
      out += w.running_task_ids(i);
    }
    out += ")";
  }
  return out;
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }

}  // namespace

// ---------------------------------------------------------------------------------------
// Table

Table::Table(std::vector<std::string> header, std::string indent) : indent_(std::move(indent)) {
  std::vector<Cell> row;
  for (std::string& h : header) row.push_back({std::move(h)});
  rows_.push_back(std::move(row));
}

void Table::AddRow(std::vector<Cell> row) { rows_.push_back(std::move(row)); }

std::string Table::Render(bool color) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].text.size());
    }
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line = indent_;
    for (size_t i = 0; i < row.size(); ++i) {
      line += Colored(row[i].text, row[i].color, color);
      if (i + 1 < row.size()) line.append(widths[i] - row[i].text.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    StrAppend(&out, line, "\n");
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// JSON

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  options.add_whitespace = pretty;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) return StrCat("{\"error\": \"cannot print as JSON\"}\n");
  if (json.empty() || json.back() != '\n') json.push_back('\n');
  return json;
}

// ---------------------------------------------------------------------------------------
// Formats

std::string FormatTime(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string FormatDuration(int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms < 1000) return StrCat(ms, "ms");
  if (ms < 60'000) {
    const int64_t tenths = ms / 100;
    if (tenths % 10 == 0) return StrCat(tenths / 10, "s");
    return StrCat(tenths / 10, ".", tenths % 10, "s");
  }
  const int64_t s = ms / 1000;
  if (s < 3600) {
    return s % 60 == 0 ? StrCat(s / 60, "m") : StrCat(s / 60, "m", s % 60, "s");
  }
  const int64_t m = s / 60;
  if (m < 24 * 60) {
    return m % 60 == 0 ? StrCat(m / 60, "h") : StrCat(m / 60, "h", m % 60, "m");
  }
  const int64_t h = m / 60;
  return h % 24 == 0 ? StrCat(h / 24, "d") : StrCat(h / 24, "d", h % 24, "h");
}

std::string FormatAgo(int64_t unix_ms, int64_t now_ms) {
  if (unix_ms <= 0) return "never";
  if (now_ms <= 0) return FormatTime(unix_ms);
  return StrCat(FormatDuration(now_ms - unix_ms), " ago (", FormatTime(unix_ms), ")");
}

std::string FormatRequest(int64_t cpu, int64_t memory, int64_t storage, int64_t gpu) {
  return StrCat("CPU ", FormatMillis(cpu), ", Memory ", FormatGb(memory), ", Storage ",
                FormatGb(storage), ", GPU ", FormatMillis(gpu));
}

// ---------------------------------------------------------------------------------------
// Views

std::string RenderWorkers(const v1::ListWorkersResponse& workers, const RenderOptions& o) {
  if (workers.workers_size() == 0) {
    return "No workers registered. Add one with: cloudai register <id> <ip:port>\n";
  }
  std::string out;
  int active = 0;
  for (const v1::WorkerStatus& w : workers.workers()) {
    if (w.is_active()) ++active;
    StrAppend(&out, w.info().worker_id(), "  ",
              Colored(w.is_active() ? "active" : "inactive", WorkerColor(w.is_active()), o.color),
              "  ", OrDash(w.info().worker_ip()), "  running tasks: ", w.running_task_ids_size(),
              "\n");
    Table table({"Resource", "Total", "Allocated", "Available"}, "  ");
    for (const ResourceRow& r : ResourceRows(w)) {
      table.AddRow({{r.name}, {r.total}, {r.allocated}, {r.available}});
    }
    StrAppend(&out, table.Render(o.color), "\n");
  }
  StrAppend(&out, workers.workers_size(), workers.workers_size() == 1 ? " worker, " : " workers, ",
            active, " active\n");
  return out;
}

std::string RenderWorkerStats(const v1::WorkerStatus& w, const RenderOptions& o) {
  std::string out;
  const v1::WorkerInfo& info = w.info();
  Field(&out, "Worker", info.worker_id());
  Field(&out, "Status",
        Colored(w.is_active() ? "active" : "inactive", WorkerColor(w.is_active()), o.color));
  Field(&out, "Address", OrDash(info.worker_ip()));
  if (!info.hostname().empty()) Field(&out, "Hostname", info.hostname());
  if (!info.driver().empty()) Field(&out, "Driver", info.driver());
  if (!info.version().empty()) Field(&out, "Version", info.version());
  Field(&out, "Registered", FormatTime(w.registered_at_ms()));
  Field(&out, "Last seen", FormatAgo(w.last_heartbeat_ms(), o.now_ms));
  Field(&out, "Running tasks", RunningTasks(w));
  out += "\n";
  Table table({"Resource", "Total", "Allocated", "Available", "Allocated %", "Usage %"});
  for (const ResourceRow& r : ResourceRows(w)) {
    table.AddRow({{r.name},
                  {r.total},
                  {r.allocated},
                  {r.available},
                  {PercentOf(r.allocated_raw, r.total_raw)},
                  {r.usage < 0 ? std::string("-") : Percent(r.usage)}});
  }
  out += table.Render(o.color);
  return out;
}

std::string RenderTask(const v1::TaskStatus& t, const RenderOptions& o) {
  std::string out;
  const v1::Task& task = t.task();
  Field(&out, "Task", task.task_id());
  Field(&out, "Status", Colored(t.status(), TaskColor(t.status()), o.color));
  Field(&out, "Worker", OrDash(t.worker_id()));
  if (!task.allocation_id().empty()) Field(&out, "Allocation", task.allocation_id());
  if (!task.target_worker_id().empty() && task.target_worker_id() != t.worker_id()) {
    Field(&out, "Target worker", task.target_worker_id());
  }
  Field(&out, "Image", task.docker_image());
  Field(&out, "Command", task.command().empty() ? "(the image's default)" : task.command());
  Field(&out, "Request",
        FormatRequest(task.req_cpu(), task.req_memory(), task.req_storage(), task.req_gpu()));
  for (const auto& [name, n] : task.req_extra()) Field(&out, "Extra", StrCat(name, "=", n));
  Field(&out, "Priority", StrCat(task.priority()));
  Field(&out, "Retries", StrCat(t.retries(), " of ", task.max_retries()));
  Field(&out, "Timeout", task.timeout_ms() > 0 ? FormatDuration(task.timeout_ms()) : "none");
  if (!task.user_id().empty()) Field(&out, "User", task.user_id());
  if (!task.env().empty()) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : task.env()) keys.push_back(k);
    std::sort(keys.begin(), keys.end());
    std::string env;
    for (const std::string& k : keys) {
      if (!env.empty()) env += " ";
      StrAppend(&env, k, "=", task.env().at(k));
    }
    Field(&out, "Env", env);
  }
  Field(&out, "Created", FormatTime(t.created_at_ms()));
  if (t.scheduled_at_ms() > 0) Field(&out, "Scheduled", FormatTime(t.scheduled_at_ms()));
  if (t.started_at_ms() > 0) Field(&out, "Started", FormatTime(t.started_at_ms()));
  if (t.completed_at_ms() > 0) {
    std::string finished = FormatTime(t.completed_at_ms());
    if (t.started_at_ms() > 0) {
      StrAppend(&finished, " (ran ", FormatDuration(t.completed_at_ms() - t.started_at_ms()), ")");
    }
    Field(&out, "Finished", finished);
  }
  if (t.has_exit_code()) Field(&out, "Exit code", StrCat(t.exit_code()));
  if (!t.error().empty()) Field(&out, "Error", t.error());
  if (!t.last_error().empty() && !IsFinished(t.status())) {
    Field(&out, "Waiting", t.last_error());
  }
  return out;
}

std::string RenderTaskList(const v1::ListTasksResponse& tasks, const RenderOptions& o) {
  if (tasks.tasks_size() == 0) return "No tasks.\n";
  Table table({"Task", "Status", "Worker", "Image", "CPU", "Memory", "Created", "Exit"});
  for (const v1::TaskStatus& t : tasks.tasks()) {
    const bool show_exit = t.has_exit_code();
    table.AddRow({{t.task().task_id()},
                  {t.status(), TaskColor(t.status())},
                  {OrDash(t.worker_id())},
                  {t.task().docker_image()},
                  {FormatMillis(t.task().req_cpu())},
                  {FormatGb(t.task().req_memory())},
                  {FormatTime(t.created_at_ms())},
                  {show_exit ? StrCat(t.exit_code()) : std::string("-")}});
  }
  std::string out = table.Render(o.color);
  if (!tasks.next_after_task_id().empty()) {
    StrAppend(&out, "More tasks: add --after ", tasks.next_after_task_id(), "\n");
  }
  return out;
}

std::string RenderQueue(const v1::QueueStatusResponse& queue, const RenderOptions& o) {
  if (queue.tasks_size() == 0) return "The queue is empty.\n";
  Table table({"Task", "Priority", "CPU", "Memory", "Storage", "GPU", "Queued", "Retries",
               "Waiting because"});
  for (const v1::QueuedTaskStatus& t : queue.tasks()) {
    const std::string queued = (o.now_ms > 0 && t.queued_at_ms() > 0)
                                   ? StrCat(FormatDuration(o.now_ms - t.queued_at_ms()), " ago")
                                   : FormatTime(t.queued_at_ms());
    table.AddRow({{t.task_id()},
                  {StrCat(t.priority())},
                  {FormatMillis(t.request().cpu())},
                  {FormatGb(t.request().memory())},
                  {FormatGb(t.request().storage())},
                  {FormatMillis(t.request().gpu())},
                  {queued},
                  {StrCat(t.retries())},
                  {OrDash(t.last_error())}});
  }
  return StrCat(table.Render(o.color), queue.tasks_size(),
                queue.tasks_size() == 1 ? " task queued\n" : " tasks queued\n");
}

// ---------------------------------------------------------------------------------------
// Allocations

std::string FormatAllocationState(const std::string& state, bool color) {
  return Colored(OrDash(state), AllocationColor(state), color);
}

std::string FormatExpiry(const v1::Allocation& a, int64_t now_ms) {
  std::string out = FormatTime(a.expires_at_ms());
  if (a.expires_at_ms() <= 0 || now_ms <= 0 || !IsLiveAllocation(a.state())) return out;
  if (a.expires_at_ms() > now_ms) {
    StrAppend(&out, " (in ", FormatDuration(a.expires_at_ms() - now_ms), ")");
  } else {
    StrAppend(&out, " (passed)");
  }
  return out;
}

std::string RenderAllocation(const v1::Allocation& a, const RenderOptions& o) {
  std::string out;
  Field(&out, "Allocation", a.allocation_id());
  Field(&out, "Job", a.job_id());
  Field(&out, "State", FormatAllocationState(a.state(), o.color));
  if (!a.reason().empty()) Field(&out, a.state() == "pending" ? "Waiting" : "Reason", a.reason());
  Field(&out, "Priority", OrDash(a.priority()));
  const v1::Resources& size = a.per_worker();
  Field(&out, "Slots",
        StrCat(a.slots_size(), " of ", a.workers(), ", each ",
               FormatRequest(size.cpu(), size.memory(), size.storage(), size.gpu())));
  if (a.services_size() > 0) Field(&out, "Services", Join(a.services()));
  if (!a.metadata().empty()) Field(&out, "Metadata", JoinMap(a.metadata()));
  Field(&out, "Created", FormatTime(a.created_at_ms()));
  if (a.activated_at_ms() > 0) Field(&out, "Active since", FormatTime(a.activated_at_ms()));
  Field(&out, "Expires", FormatExpiry(a, o.now_ms));
  Field(&out, "TTL", a.ttl_seconds() > 0 ? FormatDuration(a.ttl_seconds() * 1000) : "-");
  if (a.ended_at_ms() > 0) Field(&out, "Ended", FormatTime(a.ended_at_ms()));
  if (a.task_ids_size() > 0) Field(&out, "Tasks", Join(a.task_ids()));
  if (a.slots_size() > 0) {
    Table slots({"Slot", "Worker", "Host", "CPU", "Memory", "Storage", "GPU", "Used CPU",
                 "Used Memory"},
                "  ");
    int n = 0;
    for (const v1::AllocationSlot& slot : a.slots()) {
      const v1::Resources& r = slot.resources();
      slots.AddRow({{StrCat(++n)},
                    {slot.worker_id()},
                    {OrDash(slot.host())},
                    {FormatMillis(r.cpu())},
                    {FormatGb(r.memory())},
                    {FormatGb(r.storage())},
                    {FormatMillis(r.gpu())},
                    {FormatMillis(slot.used().cpu())},
                    {FormatGb(slot.used().memory())}});
    }
    StrAppend(&out, "\n", slots.Render(o.color));
  }
  if (a.endpoints_size() > 0) {
    Table services({"Service", "Endpoint", "Status", "Task", "Worker"}, "  ");
    for (const v1::ServiceEndpoint& e : a.endpoints()) {
      services.AddRow({{e.service()},
                       {e.endpoint().empty() ? std::string("(starting)") : e.endpoint()},
                       {OrDash(e.status()), TaskColor(e.status())},
                       {OrDash(e.task_id())},
                       {OrDash(e.worker_id())}});
    }
    StrAppend(&out, "\n", services.Render(o.color));
  }
  if (a.events_size() > 0) {
    Table events({"Time", "From", "To", "Detail"}, "  ");
    for (const v1::AllocationEvent& e : a.events()) {
      events.AddRow({{FormatTime(e.at_ms())},
                     {OrDash(e.from_state())},
                     {e.to_state(), AllocationColor(e.to_state())},
                     {OrDash(e.detail())}});
    }
    StrAppend(&out, "\nEvents:\n", events.Render(o.color));
  }
  return out;
}

std::string RenderAllocationList(const v1::ListAllocationsResponse& list, const RenderOptions& o) {
  if (list.allocations_size() == 0) return "No allocations.\n";
  Table table({"Allocation", "Job", "State", "Priority", "Slots", "CPU", "Memory", "GPU",
               "Expires", "Reason"});
  for (const v1::Allocation& a : list.allocations()) {
    std::string expires = "-";
    if (IsLiveAllocation(a.state()) && a.expires_at_ms() > 0) {
      if (o.now_ms <= 0) {
        expires = FormatTime(a.expires_at_ms());
      } else if (a.expires_at_ms() > o.now_ms) {
        expires = StrCat("in ", FormatDuration(a.expires_at_ms() - o.now_ms));
      } else {
        expires = "passed";
      }
    }
    table.AddRow({{a.allocation_id()},
                  {a.job_id()},
                  {OrDash(a.state()), AllocationColor(a.state())},
                  {OrDash(a.priority())},
                  {StrCat(a.slots_size(), "/", a.workers())},
                  {FormatMillis(a.per_worker().cpu())},
                  {FormatGb(a.per_worker().memory())},
                  {FormatMillis(a.per_worker().gpu())},
                  {expires},
                  {OrDash(a.reason())}});
  }
  return StrCat(table.Render(o.color), list.allocations_size(),
                list.allocations_size() == 1 ? " allocation\n" : " allocations\n");
}

std::string RenderCapacity(const v1::Capacity& c, const RenderOptions& o) {
  std::string out;
  Field(&out, "Workers", StrCat(c.workers_active(), " active of ", c.workers_total()));
  Field(&out, "Allocations",
        StrCat(c.active_allocations(), " active, ", c.pending_allocations(), " pending"));
  out += "\n";
  Table table({"Resource", "Total", "Allocated", "Reserved", "Available", "Allocated %"});
  struct Row {
    const char* name;
    int64_t (v1::Resources::*get)() const;
    std::string (*format)(int64_t);
  };
  for (const Row& r : {Row{"CPU", &v1::Resources::cpu, &FormatMillis},
                       Row{"Memory", &v1::Resources::memory, &FormatGb},
                       Row{"Storage", &v1::Resources::storage, &FormatGb},
                       Row{"GPU", &v1::Resources::gpu, &FormatMillis}}) {
    const int64_t total = (c.total().*r.get)();
    const int64_t allocated = (c.allocated().*r.get)();
    table.AddRow({{r.name},
                  {r.format(total)},
                  {r.format(allocated)},
                  {r.format((c.reserved().*r.get)())},
                  {r.format((c.available().*r.get)())},
                  {PercentOf(allocated, total)}});
  }
  out += table.Render(o.color);
  if (c.services_size() > 0) {
    Table services({"Service", "Endpoint", "Status", "Task", "Worker", "References", "Idle"},
                   "  ");
    for (const v1::ServiceEndpoint& e : c.services()) {
      std::string idle = "-";
      if (e.idle_since_ms() > 0) {
        idle = o.now_ms > 0 ? FormatDuration(o.now_ms - e.idle_since_ms())
                            : FormatTime(e.idle_since_ms());
      }
      services.AddRow({{e.service()},
                       {e.endpoint().empty() ? std::string("(starting)") : e.endpoint()},
                       {OrDash(e.status()), TaskColor(e.status())},
                       {OrDash(e.task_id())},
                       {OrDash(e.worker_id())},
                       {StrCat(e.references())},
                       {idle}});
    }
    StrAppend(&out, "\nServices:\n", services.Render(o.color));
  }
  return out;
}

std::string RenderCleanup(const v1::CleanupResponse& c) {
  std::string out;
  const int expired = c.expired_allocation_ids_size();
  if (expired == 0) {
    out += "No allocation had expired.\n";
  } else {
    StrAppend(&out, "Expired ", expired, expired == 1 ? " allocation: " : " allocations: ",
              Join(c.expired_allocation_ids()), "\n");
  }
  if (c.stopped_services_size() > 0) {
    StrAppend(&out, "Stopped services: ", Join(c.stopped_services()), "\n");
  }
  StrAppend(&out, c.active_allocations(),
            c.active_allocations() == 1 ? " allocation still active\n"
                                        : " allocations still active\n");
  return out;
}

}  // namespace cloudai::cli
