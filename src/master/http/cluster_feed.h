// ClusterFeed: the cluster's one observer on the HTTP side. It counts heartbeats and
// task events for the metrics, and turns heartbeats, worker changes and task events into
// the JSON messages of docs/http.md for the WebSocket hub.
//
// The observer methods only count and queue (they run on the cluster's and the store's
// threads and must be quick); one thread of the feed builds the JSON and publishes it,
// heartbeats that queued up together in groups (one write per client for the group).
// The queue is bounded: a heartbeat that finds it full is dropped (counted in
// cloudai_heartbeats_dropped_total); worker changes and task events are always queued.
//
// Thread safety: the observer methods may be called from any thread; Start() and Stop()
// from one thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "master/cluster.h"
#include "master/http/metrics.h"
#include "master/http/websocket_hub.h"

namespace cloudai::master::http {

class ClusterFeed final : public ClusterObserver {
 public:
  static constexpr size_t kMaxQueued = 65536;
  // Heartbeats queued together are published together, this many at most.
  static constexpr size_t kMaxHeartbeatsTogether = 16;

  ClusterFeed(Metrics& metrics, WebSocketHub& hub) : metrics_(metrics), hub_(hub) {}
  ~ClusterFeed() override { Stop(); }

  void Start();
  // Publishes what is queued, then ends the thread.
  void Stop();

  void OnHeartbeat(const WorkerView& worker) override;
  void OnWorkerChanged(const WorkerView& worker, bool removed) override;
  void OnTaskEvent(const store::TaskRecord& task, const store::TaskEvent& event) override;
  void OnAllocationChanged(const AllocationView& allocation) override;

  // The messages, also used for the telemetry snapshot and by tests.
  static std::string SnapshotJson(const std::vector<WorkerView>& workers);
  static std::string HeartbeatJson(const WorkerView& worker, int64_t received_at_ms);
  static std::string WorkerJson(const WorkerView& worker, bool removed);
  static std::string TaskJson(const store::TaskRecord& task, const store::TaskEvent& event);
  // {"from": ..., "to": ..., "at_ms": "...", "detail": ...} ("from" is null for creation).
  static std::string EventJson(const store::TaskEvent& event);
  // {"type": "allocation", "allocation": Allocation}
  static std::string AllocationJson(const AllocationView& allocation);

 private:
  struct Item {
    enum class Kind { kHeartbeat, kWorker, kTask, kAllocation } kind = Kind::kHeartbeat;
    std::optional<WorkerView> worker;
    bool removed = false;
    int64_t received_at_ms = 0;
    std::optional<store::TaskRecord> task;
    std::optional<store::TaskEvent> event;
    std::optional<AllocationView> allocation;
  };
  void Push(Item item, bool droppable);
  void Loop();

  Metrics& metrics_;
  WebSocketHub& hub_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Item> queue_;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  std::thread thread_;
};

}  // namespace cloudai::master::http
