#include "master/http/metrics.h"

#include <cstdio>

#include "common/strings.h"

namespace cloudai::master::http {
namespace {

std::string Number(double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.15g", value);
  return buf;
}

void Header(std::string* out, std::string_view name, std::string_view type,
            std::string_view help) {
  StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

}  // namespace

std::string EscapeLabel(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out.append("\\\\");
    else if (c == '"') out.append("\\\"");
    else if (c == '\n') out.append("\\n");
    else out.push_back(c);
  }
  return out;
}

const std::vector<double>& Metrics::LatencyBuckets() {
  static const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                              1,     2.5,  5,     10,   30,  60,  300};
  return buckets;
}

void Metrics::RecordTaskEvent(const store::TaskRecord& task, const store::TaskEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  if (store::IsFinal(event.to_state)) {
    finished_[std::string(store::TaskStateName(event.to_state))]++;
  }
  if (event.from_state == store::TaskState::kPending &&
      event.to_state == store::TaskState::kScheduled && task.created_at > 0) {
    const double seconds = std::max<int64_t>(0, event.at - task.created_at) / 1000.0;
    const std::vector<double>& bounds = LatencyBuckets();
    if (bucket_counts_.empty()) bucket_counts_.assign(bounds.size(), 0);
    for (size_t i = 0; i < bounds.size(); ++i) {
      if (seconds <= bounds[i]) {
        bucket_counts_[i]++;
        break;
      }
    }
    latency_count_++;
    latency_sum_ += seconds;
  }
}

std::string Metrics::Render(const MetricsSnapshot& s) const {
  std::string out;
  size_t active = 0;
  for (const auto& w : s.workers) active += w.active ? 1 : 0;
  Header(&out, "cloudai_workers", "gauge", "Registered workers by state.");
  StrAppend(&out, "cloudai_workers{state=\"active\"} ", active, "\n");
  StrAppend(&out, "cloudai_workers{state=\"inactive\"} ", s.workers.size() - active, "\n");

  struct Dim {
    const char* name;
    double (*value)(const Resources&);
  };
  static const Dim kDims[] = {
      {"cpu", [](const Resources& r) { return r.cpu_millis / 1000.0; }},
      {"memory", [](const Resources& r) { return r.memory_mib * 1048576.0; }},
      {"storage", [](const Resources& r) { return r.storage_mib * 1048576.0; }},
      {"gpu", [](const Resources& r) { return r.gpu_millis / 1000.0; }},
  };
  for (int which = 0; which < 2; ++which) {
    const char* name =
        which == 0 ? "cloudai_worker_resource_capacity" : "cloudai_worker_resource_allocated";
    Header(&out, name, "gauge",
           which == 0 ? "A worker's capacity (cpu in cores, memory and storage in bytes, gpu "
                        "in GPUs)."
                      : "What the master has allocated on a worker, in the units of "
                        "cloudai_worker_resource_capacity.");
    for (const auto& w : s.workers) {
      const Resources& r = which == 0 ? w.total : w.allocated;
      for (const Dim& d : kDims) {
        StrAppend(&out, name, "{worker=\"", EscapeLabel(w.id), "\",resource=\"", d.name, "\"} ",
                  Number(d.value(r)), "\n");
      }
    }
  }

  Header(&out, "cloudai_tasks", "gauge", "Unfinished tasks by state.");
  StrAppend(&out, "cloudai_tasks{state=\"pending\"} ", s.queued, "\n");
  StrAppend(&out, "cloudai_tasks{state=\"scheduled\"} ", s.scheduled, "\n");
  StrAppend(&out, "cloudai_tasks{state=\"running\"} ", s.running, "\n");

  std::map<std::string, uint64_t> finished;
  std::vector<uint64_t> buckets;
  uint64_t count = 0;
  double sum = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished = finished_;
    buckets = bucket_counts_;
    count = latency_count_;
    sum = latency_sum_;
  }
  for (const char* state : {"completed", "failed", "cancelled", "lost"}) finished[state] += 0;
  Header(&out, "cloudai_tasks_finished_total", "counter",
         "Tasks that reached a final state since the master started, by state.");
  for (const auto& [state, n] : finished) {
    StrAppend(&out, "cloudai_tasks_finished_total{state=\"", EscapeLabel(state), "\"} ", n, "\n");
  }

  Header(&out, "cloudai_queue_length", "gauge", "Tasks waiting in the queue.");
  StrAppend(&out, "cloudai_queue_length ", s.queue_length, "\n");

  Header(&out, "cloudai_placement_latency_seconds", "histogram",
         "Time from a task's submission to its placement on a worker.");
  const std::vector<double>& bounds = LatencyBuckets();
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += i < buckets.size() ? buckets[i] : 0;
    StrAppend(&out, "cloudai_placement_latency_seconds_bucket{le=\"", Number(bounds[i]), "\"} ",
              cumulative, "\n");
  }
  StrAppend(&out, "cloudai_placement_latency_seconds_bucket{le=\"+Inf\"} ", count, "\n");
  StrAppend(&out, "cloudai_placement_latency_seconds_sum ", Number(sum), "\n");
  StrAppend(&out, "cloudai_placement_latency_seconds_count ", count, "\n");

  Header(&out, "cloudai_heartbeats_received_total", "counter",
         "Worker heartbeats the master took in since it started.");
  StrAppend(&out, "cloudai_heartbeats_received_total ", heartbeats_.load(), "\n");
  Header(&out, "cloudai_heartbeats_dropped_total", "counter",
         "Heartbeats not passed on to telemetry clients because the fan-out queue was full.");
  StrAppend(&out, "cloudai_heartbeats_dropped_total ", heartbeats_dropped_.load(), "\n");

  Header(&out, "cloudai_websocket_clients", "gauge", "Connected WebSocket clients.");
  StrAppend(&out, "cloudai_websocket_clients ", s.websocket_clients, "\n");

  Header(&out, "cloudai_allocations", "gauge", "Allocations not yet ended, by state.");
  StrAppend(&out, "cloudai_allocations{state=\"active\"} ", s.active_allocations, "\n");
  StrAppend(&out, "cloudai_allocations{state=\"pending\"} ", s.pending_allocations, "\n");
  Header(&out, "cloudai_allocation_reserved", "gauge",
         "Capacity held by allocation slots, by resource (CPU and GPU in cores, memory and "
         "storage in bytes).");
  StrAppend(&out, "cloudai_allocation_reserved{resource=\"cpu\"} ",
            Number(static_cast<double>(s.reserved.cpu_millis) / 1000), "\n");
  StrAppend(&out, "cloudai_allocation_reserved{resource=\"memory\"} ",
            Number(static_cast<double>(s.reserved.memory_mib) * 1048576), "\n");
  StrAppend(&out, "cloudai_allocation_reserved{resource=\"storage\"} ",
            Number(static_cast<double>(s.reserved.storage_mib) * 1048576), "\n");
  StrAppend(&out, "cloudai_allocation_reserved{resource=\"gpu\"} ",
            Number(static_cast<double>(s.reserved.gpu_millis) / 1000), "\n");
  Header(&out, "cloudai_services", "gauge", "Running service instances started for allocations.");
  StrAppend(&out, "cloudai_services ", s.services, "\n");
  return out;
}

}  // namespace cloudai::master::http
