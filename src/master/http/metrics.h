// Metrics: the master's Prometheus metrics (docs/http.md, "Metrics"), in the text
// exposition format 0.0.4.
//
// Counters and the placement-latency histogram are fed by the cluster's observer
// (ClusterFeed: RecordHeartbeat, RecordTaskEvent); gauges are read from the cluster at
// scrape time and handed to Render() as a MetricsSnapshot, so the text can be tested
// without a cluster.
//
// Thread safety: every method may be called from any thread, concurrently.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/resources.h"
#include "store/records.h"

namespace cloudai::master::http {

struct MetricsSnapshot {
  struct Worker {
    std::string id;
    bool active = false;
    Resources total, allocated;
  };
  std::vector<Worker> workers;
  size_t queued = 0, scheduled = 0, running = 0;
  size_t queue_length = 0;
  size_t websocket_clients = 0;
  size_t active_allocations = 0, pending_allocations = 0;
  Resources reserved;  // held by allocation slots
  size_t services = 0;  // running service instances
};

class Metrics {
 public:
  // Upper bounds of the placement-latency buckets, in seconds.
  static const std::vector<double>& LatencyBuckets();

  void RecordHeartbeat() { heartbeats_++; }
  void RecordHeartbeatDropped() { heartbeats_dropped_++; }
  // Counts finished tasks; a pending -> scheduled event adds its wait (event.at minus
  // the task's creation) to the placement-latency histogram.
  void RecordTaskEvent(const store::TaskRecord& task, const store::TaskEvent& event);

  // The whole exposition text.
  std::string Render(const MetricsSnapshot& snapshot) const;

 private:
  std::atomic<uint64_t> heartbeats_{0};
  std::atomic<uint64_t> heartbeats_dropped_{0};
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> finished_;  // by final state; guarded by mu_
  std::vector<uint64_t> bucket_counts_;        // not cumulative; guarded by mu_
  uint64_t latency_count_ = 0;                 // guarded by mu_
  double latency_sum_ = 0;                     // seconds; guarded by mu_
};

// A label value escaped for the text format (backslash, quote, newline).
std::string EscapeLabel(std::string_view value);

}  // namespace cloudai::master::http
