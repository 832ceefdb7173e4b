#include "mcp/convert.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <vector>

#include "common/strings.h"
#include "mcp/schema_builder.h"

namespace cloudai::mcp {
namespace {

using schema::ArrayOf;
using schema::Boolean;
using schema::Integer;
using schema::MapOf;
using schema::Number;
using schema::Object;
using schema::Opt;
using schema::Req;
using schema::String;

double Finite(double v) { return std::isfinite(v) ? v : 0.0; }

Json Strings(const google::protobuf::RepeatedPtrField<std::string>& values) {
  Json out = Json::array();
  for (const std::string& v : values) out.push_back(v);
  return out;
}

Json StringMap(const google::protobuf::Map<std::string, std::string>& values) {
  // Sorted, so that the text form is stable.
  std::map<std::string, std::string> sorted(values.begin(), values.end());
  Json out = Json::object();
  for (const auto& [k, v] : sorted) out[k] = v;
  return out;
}

// `name`_ms always, and `name` as RFC 3339 text when set.
void PutTime(Json& out, const std::string& name, int64_t unix_ms) {
  out[StrCat(name, "_ms")] = unix_ms;
  if (unix_ms > 0) out[name] = FormatTimeMs(unix_ms);
}

// The schema fields PutTime writes.
void TimeFields(std::vector<schema::Field>& fields, const std::string& name,
                const std::string& what) {
  fields.push_back(Req(StrCat(name, "_ms"), Integer(StrCat(what, ", Unix milliseconds; 0: not yet"))));
  fields.push_back(Opt(name, String(StrCat(what, ", RFC 3339 UTC"))));
}

}  // namespace

std::string FormatTimeMs(int64_t unix_ms) {
  const int64_t seconds = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  const int64_t millis = unix_ms - seconds * 1000;
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "";
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

size_t WholeUtf8Prefix(const std::string& text) {
  // Look back at most 3 bytes for the lead byte of a sequence that is cut short.
  const size_t n = text.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const unsigned char c = static_cast<unsigned char>(text[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back
    size_t need = 0;
    if ((c & 0xE0) == 0xC0) need = 2;
    else if ((c & 0xF0) == 0xE0) need = 3;
    else if ((c & 0xF8) == 0xF0) need = 4;
    else return n;  // ASCII or not UTF-8: nothing to hold back
    return need > back ? n - back : n;
  }
  return n;
}

// ---- Resources ----------------------------------------------------------------------

Json ResourcesJson(const v1::Resources& r) {
  Json out = Json::object();
  out["cpu_cores"] = static_cast<double>(r.cpu()) / 1000.0;
  out["memory_gb"] = static_cast<double>(r.memory()) / 1024.0;
  out["storage_gb"] = static_cast<double>(r.storage()) / 1024.0;
  out["gpu"] = static_cast<double>(r.gpu()) / 1000.0;
  if (!r.extra().empty()) {
    std::map<std::string, int64_t> sorted(r.extra().begin(), r.extra().end());
    Json extra = Json::object();
    for (const auto& [k, v] : sorted) extra[k] = v;
    out["extra"] = std::move(extra);
  }
  return out;
}

Json ResourcesSchema() {
  return Object({Req("cpu_cores", Number("CPU cores")),
                 Req("memory_gb", Number("memory, GB (1,024 MiB)")),
                 Req("storage_gb", Number("storage, GB (1,024 MiB)")),
                 Req("gpu", Number("GPUs")),
                 Opt("extra", MapOf(Integer(), "named extra resources, counts"))});
}

// ---- Allocations --------------------------------------------------------------------

Json ServiceEndpointJson(const v1::ServiceEndpoint& e) {
  Json out = Json::object();
  out["service"] = e.service();
  out["endpoint"] = e.endpoint();
  out["task_id"] = e.task_id();
  out["worker_id"] = e.worker_id();
  out["port"] = e.port();
  out["status"] = e.status();
  out["references"] = e.references();
  out["idle_since_ms"] = e.idle_since_ms();
  return out;
}

Json ServiceEndpointSchema() {
  return Object({Req("service", String("the service's name in the catalog")),
                 Req("endpoint", String("host:port where it listens; empty while it starts")),
                 Req("task_id", String("the long-running task that runs it")),
                 Req("worker_id", String()),
                 Req("port", Integer()),
                 Req("status", String("its task's status")),
                 Req("references", Integer("live allocations that name it")),
                 Req("idle_since_ms", Integer("0 while referenced"))});
}

Json AllocationJson(const v1::Allocation& a) {
  Json out = Json::object();
  out["allocation_id"] = a.allocation_id();
  out["job_id"] = a.job_id();
  out["state"] = a.state();
  out["priority"] = a.priority();
  out["workers"] = a.workers();
  out["per_worker"] = ResourcesJson(a.per_worker());
  Json slots = Json::array();
  for (const v1::AllocationSlot& s : a.slots()) {
    Json slot = Json::object();
    slot["worker_id"] = s.worker_id();
    slot["host"] = s.host();
    slot["resources"] = ResourcesJson(s.resources());
    slot["used"] = ResourcesJson(s.used());
    slots.push_back(std::move(slot));
  }
  out["slots"] = std::move(slots);
  out["services"] = Strings(a.services());
  Json endpoints = Json::array();
  for (const v1::ServiceEndpoint& e : a.endpoints()) endpoints.push_back(ServiceEndpointJson(e));
  out["endpoints"] = std::move(endpoints);
  out["metadata"] = StringMap(a.metadata());
  out["ttl_seconds"] = a.ttl_seconds();
  PutTime(out, "created_at", a.created_at_ms());
  PutTime(out, "activated_at", a.activated_at_ms());
  PutTime(out, "expires_at", a.expires_at_ms());
  PutTime(out, "ended_at", a.ended_at_ms());
  out["reason"] = a.reason();
  out["task_ids"] = Strings(a.task_ids());
  if (!a.events().empty()) {
    Json events = Json::array();
    for (const v1::AllocationEvent& e : a.events()) {
      Json event = Json::object();
      event["seq"] = e.seq();
      event["from_state"] = e.from_state();
      event["to_state"] = e.to_state();
      PutTime(event, "at", e.at_ms());
      event["detail"] = e.detail();
      events.push_back(std::move(event));
    }
    out["events"] = std::move(events);
  }
  return out;
}

Json AllocationSchema() {
  std::vector<schema::Field> fields = {
      Req("allocation_id", String("\"alloc-\" and 12 hex digits")),
      Req("job_id", String()),
      Req("state", String("pending, active, releasing, released, failed or expired")),
      Req("priority", String("low, normal, high or critical")),
      Req("workers", Integer("slots asked for")),
      Req("per_worker", ResourcesSchema()),
      Req("slots", ArrayOf(Object({Req("worker_id", String()),
                                   Req("host", String("the worker's host, for endpoints")),
                                   Req("resources", ResourcesSchema()),
                                   Req("used", ResourcesSchema())}),
                           "reserved slots; empty until active")),
      Req("services", ArrayOf(String())),
      Req("endpoints", ArrayOf(ServiceEndpointSchema())),
      Req("metadata", MapOf(String())),
      Req("ttl_seconds", Integer()),
  };
  TimeFields(fields, "created_at", "when it was asked for");
  TimeFields(fields, "activated_at", "when its slots were reserved");
  TimeFields(fields, "expires_at", "when it expires");
  TimeFields(fields, "ended_at", "when it ended");
  fields.push_back(Req("reason", String("why it waits (pending) or why it ended")));
  fields.push_back(Req("task_ids", ArrayOf(String(), "its unfinished tasks")));
  std::vector<schema::Field> event_fields = {Req("seq", Integer()), Req("from_state", String()),
                                             Req("to_state", String())};
  TimeFields(event_fields, "at", "when it happened");
  event_fields.push_back(Req("detail", String()));
  fields.push_back(Opt("events", ArrayOf(Object(event_fields), "its history, oldest first")));
  return Object(fields);
}

Json AllocationListJson(const v1::ListAllocationsResponse& response) {
  Json out = Json::object();
  Json list = Json::array();
  for (const v1::Allocation& a : response.allocations()) list.push_back(AllocationJson(a));
  out["allocations"] = std::move(list);
  out["count"] = response.allocations_size();
  return out;
}

Json AllocationListSchema() {
  return Object({Req("allocations", ArrayOf(AllocationSchema(), "newest first")),
                 Req("count", Integer())});
}

Json CapacityJson(const v1::Capacity& c) {
  Json out = Json::object();
  out["total"] = ResourcesJson(c.total());
  out["allocated"] = ResourcesJson(c.allocated());
  out["reserved"] = ResourcesJson(c.reserved());
  out["available"] = ResourcesJson(c.available());
  out["workers_total"] = c.workers_total();
  out["workers_active"] = c.workers_active();
  out["active_allocations"] = c.active_allocations();
  out["pending_allocations"] = c.pending_allocations();
  Json services = Json::array();
  for (const v1::ServiceEndpoint& e : c.services()) services.push_back(ServiceEndpointJson(e));
  out["services"] = std::move(services);
  return out;
}

Json CapacitySchema() {
  Json total = ResourcesSchema();
  total["description"] = "over active workers";
  Json allocated = ResourcesSchema();
  allocated["description"] = "taken by tasks and allocation slots together";
  Json reserved = ResourcesSchema();
  reserved["description"] = "the part of allocated held by allocation slots";
  return Object({Req("total", total), Req("allocated", allocated), Req("reserved", reserved),
                 Req("available", ResourcesSchema()), Req("workers_total", Integer()),
                 Req("workers_active", Integer()), Req("active_allocations", Integer()),
                 Req("pending_allocations", Integer()),
                 Req("services", ArrayOf(ServiceEndpointSchema(), "running services"))});
}

Json CleanupJson(const v1::CleanupResponse& r) {
  Json out = Json::object();
  out["expired_allocation_ids"] = Strings(r.expired_allocation_ids());
  out["stopped_services"] = Strings(r.stopped_services());
  out["active_allocations"] = r.active_allocations();
  return out;
}

Json CleanupSchema() {
  return Object({Req("expired_allocation_ids", ArrayOf(String(), "allocations this pass expired")),
                 Req("stopped_services", ArrayOf(String(), "services it stopped")),
                 Req("active_allocations", Integer("still active after the pass"))});
}

// ---- Tasks --------------------------------------------------------------------------

Json TaskStatusJson(const v1::TaskStatus& s) {
  const v1::Task& t = s.task();
  Json out = Json::object();
  out["task_id"] = t.task_id();
  out["status"] = s.status();
  out["worker_id"] = s.worker_id();
  out["docker_image"] = t.docker_image();
  out["command"] = t.command();
  out["allocation_id"] = t.allocation_id();
  out["target_worker_id"] = t.target_worker_id();
  out["priority"] = t.priority();
  v1::Resources request;
  request.set_cpu(t.req_cpu());
  request.set_memory(t.req_memory());
  request.set_storage(t.req_storage());
  request.set_gpu(t.req_gpu());
  request.mutable_extra()->insert(t.req_extra().begin(), t.req_extra().end());
  out["resources"] = ResourcesJson(request);
  out["env"] = StringMap(t.env());
  out["timeout_seconds"] = static_cast<double>(t.timeout_ms()) / 1000.0;
  out["max_retries"] = t.max_retries();
  out["retries"] = s.retries();
  PutTime(out, "created_at", s.created_at_ms());
  PutTime(out, "scheduled_at", s.scheduled_at_ms());
  PutTime(out, "started_at", s.started_at_ms());
  PutTime(out, "completed_at", s.completed_at_ms());
  if (s.has_exit_code()) out["exit_code"] = s.exit_code();
  out["error"] = s.error();
  out["last_error"] = s.last_error();
  return out;
}

Json TaskStatusSchema() {
  std::vector<schema::Field> fields = {
      Req("task_id", String()),
      Req("status", String("pending, scheduled, running, completed, failed, cancelled or lost")),
      Req("worker_id", String("where it runs or ran; empty while queued")),
      Req("docker_image", String()),
      Req("command", String()),
      Req("allocation_id", String("the allocation whose slots it runs on; empty: general pool")),
      Req("target_worker_id", String()),
      Req("priority", Integer("higher runs first")),
      Req("resources", ResourcesSchema()),
      Req("env", MapOf(String())),
      Req("timeout_seconds", Number("0: no limit")),
      Req("max_retries", Integer()),
      Req("retries", Integer()),
  };
  TimeFields(fields, "created_at", "when it was submitted");
  TimeFields(fields, "scheduled_at", "when it was placed");
  TimeFields(fields, "started_at", "when it started");
  TimeFields(fields, "completed_at", "when it ended");
  fields.push_back(Opt("exit_code", Integer("absent until the command has exited")));
  fields.push_back(Req("error", String("why it failed, when not the command's exit status")));
  fields.push_back(Req("last_error", String("why it is still queued")));
  return Object(fields);
}

Json LogSliceJson(const std::string& task_id, int64_t offset, const LogSlice& slice) {
  Json out = Json::object();
  out["task_id"] = task_id;
  out["offset"] = offset;
  out["next_offset"] = slice.next_offset;
  out["content"] = slice.content;
  out["status"] = slice.status;
  out["final"] = slice.final;
  return out;
}

Json LogSliceSchema() {
  return Object({Req("task_id", String()),
                 Req("offset", Integer("byte offset of content in the log")),
                 Req("next_offset", Integer("where the next read starts")),
                 Req("content", String("log text from offset")),
                 Req("status", String("the task's status when read")),
                 Req("final", Boolean("the task has ended and content reaches the log's end"))});
}

// ---- Workers ------------------------------------------------------------------------

Json WorkersJson(const v1::ListWorkersResponse& response) {
  Json list = Json::array();
  for (const v1::WorkerStatus& w : response.workers()) {
    const v1::WorkerInfo& info = w.info();
    Json out = Json::object();
    out["worker_id"] = info.worker_id();
    out["address"] = info.worker_ip();
    out["hostname"] = info.hostname();
    out["driver"] = info.driver();
    out["version"] = info.version();
    out["active"] = w.is_active();
    v1::Resources total;
    total.set_cpu(info.total_cpu());
    total.set_memory(info.total_memory());
    total.set_storage(info.total_storage());
    total.set_gpu(info.total_gpu());
    total.mutable_extra()->insert(info.total_extra().begin(), info.total_extra().end());
    out["total"] = ResourcesJson(total);
    out["allocated"] = ResourcesJson(w.allocated());
    out["available"] = ResourcesJson(w.available());
    Json usage = Json::object();
    usage["cpu_percent"] = Finite(w.cpu_usage());
    usage["memory_percent"] = Finite(w.memory_usage());
    usage["storage_percent"] = Finite(w.storage_usage());
    usage["gpu_percent"] = Finite(w.gpu_usage());
    out["usage"] = std::move(usage);
    PutTime(out, "last_heartbeat", w.last_heartbeat_ms());
    PutTime(out, "registered_at", w.registered_at_ms());
    out["running_task_ids"] = Strings(w.running_task_ids());
    list.push_back(std::move(out));
  }
  Json out = Json::object();
  out["workers"] = std::move(list);
  out["count"] = response.workers_size();
  return out;
}

Json WorkersSchema() {
  std::vector<schema::Field> fields = {
      Req("worker_id", String()),
      Req("address", String("host:port of its gRPC server")),
      Req("hostname", String()),
      Req("driver", String("docker or exec")),
      Req("version", String()),
      Req("active", Boolean("heartbeating and taking tasks")),
      Req("total", ResourcesSchema()),
      Req("allocated", ResourcesSchema()),
      Req("available", ResourcesSchema()),
      Req("usage", Object({Req("cpu_percent", Number()), Req("memory_percent", Number()),
                           Req("storage_percent", Number()), Req("gpu_percent", Number())})),
  };
  TimeFields(fields, "last_heartbeat", "its last heartbeat");
  TimeFields(fields, "registered_at", "when it joined");
  fields.push_back(Req("running_task_ids", ArrayOf(String())));
  return Object({Req("workers", ArrayOf(Object(fields))), Req("count", Integer())});
}

}  // namespace cloudai::mcp
