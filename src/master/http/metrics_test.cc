#include "master/http/metrics.h"

#include <gtest/gtest.h>

namespace cloudai::master::http {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(MetricsTest, RendersEveryFamily) {
  Metrics metrics;
  metrics.RecordHeartbeat();
  metrics.RecordHeartbeat();
  metrics.RecordHeartbeatDropped();
  store::TaskRecord task;
  task.created_at = 1000;
  store::TaskEvent placed;
  placed.from_state = store::TaskState::kPending;
  placed.to_state = store::TaskState::kScheduled;
  placed.at = 1030;  // 30 ms
  metrics.RecordTaskEvent(task, placed);
  store::TaskEvent done;
  done.from_state = store::TaskState::kRunning;
  done.to_state = store::TaskState::kCompleted;
  metrics.RecordTaskEvent(task, done);

  MetricsSnapshot snapshot;
  snapshot.workers.push_back({"w\"1", true, Resources::Of(4000, 1024, 2048, 1000),
                              Resources::Of(500, 256)});
  snapshot.workers.push_back({"w2", false, Resources::Of(1000, 512), Resources()});
  snapshot.queued = 3;
  snapshot.running = 1;
  snapshot.queue_length = 3;
  snapshot.websocket_clients = 2;
  const std::string text = metrics.Render(snapshot);

  EXPECT_TRUE(Has(text, "# TYPE cloudai_workers gauge")) << text;
  EXPECT_TRUE(Has(text, "cloudai_workers{state=\"active\"} 1"));
  EXPECT_TRUE(Has(text, "cloudai_workers{state=\"inactive\"} 1"));
  EXPECT_TRUE(Has(text, "cloudai_worker_resource_capacity{worker=\"w\\\"1\",resource=\"cpu\"} 4"));
  EXPECT_TRUE(
      Has(text, "cloudai_worker_resource_capacity{worker=\"w\\\"1\",resource=\"memory\"} 1073741824"));
  EXPECT_TRUE(Has(text, "cloudai_worker_resource_allocated{worker=\"w\\\"1\",resource=\"cpu\"} 0.5"));
  EXPECT_TRUE(Has(text, "cloudai_tasks{state=\"pending\"} 3"));
  EXPECT_TRUE(Has(text, "cloudai_tasks_finished_total{state=\"completed\"} 1"));
  EXPECT_TRUE(Has(text, "cloudai_tasks_finished_total{state=\"lost\"} 0"));
  EXPECT_TRUE(Has(text, "cloudai_queue_length 3"));
  EXPECT_TRUE(Has(text, "# TYPE cloudai_placement_latency_seconds histogram"));
  EXPECT_TRUE(Has(text, "cloudai_placement_latency_seconds_bucket{le=\"0.025\"} 0"));
  EXPECT_TRUE(Has(text, "cloudai_placement_latency_seconds_bucket{le=\"0.05\"} 1"));
  EXPECT_TRUE(Has(text, "cloudai_placement_latency_seconds_bucket{le=\"+Inf\"} 1"));
  EXPECT_TRUE(Has(text, "cloudai_placement_latency_seconds_sum 0.03"));
  EXPECT_TRUE(Has(text, "cloudai_placement_latency_seconds_count 1"));
  EXPECT_TRUE(Has(text, "cloudai_heartbeats_received_total 2"));
  EXPECT_TRUE(Has(text, "cloudai_heartbeats_dropped_total 1"));
  EXPECT_TRUE(Has(text, "cloudai_websocket_clients 2"));
}

}  // namespace
}  // namespace cloudai::master::http
