#include "master/http/cluster_feed.h"

#include <chrono>

#include "common/strings.h"
#include "master/http/json.h"
#include "master/proto_convert.h"

namespace cloudai::master::http {
namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void ClusterFeed::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void ClusterFeed::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ClusterFeed::Push(Item item, bool droppable) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (droppable && queue_.size() >= kMaxQueued) {
      metrics_.RecordHeartbeatDropped();
      return;
    }
    queue_.push_back(std::move(item));
  }
  wake_.notify_one();
}

void ClusterFeed::OnHeartbeat(const WorkerView& worker) {
  metrics_.RecordHeartbeat();
  if (!hub_.HasSubscribers(Subscription::Stream::kTelemetry)) return;
  Item item;
  item.kind = Item::Kind::kHeartbeat;
  item.worker = worker;
  item.received_at_ms = WallMs();
  Push(std::move(item), /*droppable=*/true);
}

void ClusterFeed::OnWorkerChanged(const WorkerView& worker, bool removed) {
  if (!hub_.HasSubscribers(Subscription::Stream::kTelemetry) &&
      !hub_.HasSubscribers(Subscription::Stream::kEvents)) {
    return;
  }
  Item item;
  item.kind = Item::Kind::kWorker;
  item.worker = worker;
  item.removed = removed;
  Push(std::move(item), /*droppable=*/false);
}

void ClusterFeed::OnTaskEvent(const store::TaskRecord& task, const store::TaskEvent& event) {
  metrics_.RecordTaskEvent(task, event);
  if (!hub_.HasSubscribers(Subscription::Stream::kEvents)) return;
  Item item;
  item.kind = Item::Kind::kTask;
  item.task = task;
  item.event = event;
  Push(std::move(item), /*droppable=*/false);
}

void ClusterFeed::OnAllocationChanged(const AllocationView& allocation) {
  if (!hub_.HasSubscribers(Subscription::Stream::kEvents)) return;
  Item item;
  item.kind = Item::Kind::kAllocation;
  item.allocation = allocation;
  Push(std::move(item), /*droppable=*/false);
}

void ClusterFeed::Loop() {
  for (;;) {
    std::deque<Item> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      batch.swap(queue_);
    }
    // Consecutive heartbeats go out together (each client gets them in one write), in
    // groups small enough that the first need not wait long for the last one's JSON.
    std::vector<std::pair<std::string, Message>> beats;
    const auto flush = [&] {
      hub_.PublishHeartbeats(beats);
      beats.clear();
    };
    for (const Item& item : batch) {
      if (item.kind != Item::Kind::kHeartbeat && !beats.empty()) flush();
      switch (item.kind) {
        case Item::Kind::kHeartbeat:
          beats.emplace_back(item.worker->record.worker_id,
                             std::make_shared<const std::string>(
                                 HeartbeatJson(*item.worker, item.received_at_ms)));
          if (beats.size() >= kMaxHeartbeatsTogether) flush();
          break;
        case Item::Kind::kWorker:
          hub_.PublishWorker(item.worker->record.worker_id,
                             std::make_shared<const std::string>(
                                 WorkerJson(*item.worker, item.removed)));
          break;
        case Item::Kind::kTask:
          hub_.PublishEvent(
              std::make_shared<const std::string>(TaskJson(*item.task, *item.event)));
          break;
        case Item::Kind::kAllocation:
          hub_.PublishEvent(std::make_shared<const std::string>(AllocationJson(*item.allocation)));
          break;
      }
    }
    if (!beats.empty()) flush();
  }
}

std::string ClusterFeed::SnapshotJson(const std::vector<WorkerView>& workers) {
  std::string out = "{\"type\": \"snapshot\", \"workers\": [";
  for (size_t i = 0; i < workers.size(); ++i) {
    StrAppend(&out, i > 0 ? ", " : "", ProtoToJson(WorkerStatusToProto(workers[i])));
  }
  out.append("]}");
  return out;
}

std::string ClusterFeed::HeartbeatJson(const WorkerView& worker, int64_t received_at_ms) {
  return StrCat("{\"type\": \"heartbeat\", \"worker\": ", ProtoToJson(WorkerStatusToProto(worker)),
                ", \"received_at_ms\": \"", received_at_ms, "\"}");
}

std::string ClusterFeed::WorkerJson(const WorkerView& worker, bool removed) {
  return StrCat("{\"type\": \"worker\", \"worker\": ", ProtoToJson(WorkerStatusToProto(worker)),
                ", \"removed\": ", removed ? "true" : "false", "}");
}

std::string ClusterFeed::EventJson(const store::TaskEvent& event) {
  return StrCat("{\"from\": ",
                event.from_state ? JsonQuote(store::TaskStateName(*event.from_state)) : "null",
                ", \"to\": ", JsonQuote(store::TaskStateName(event.to_state)), ", \"at_ms\": \"",
                event.at, "\", \"detail\": ", JsonQuote(event.detail), "}");
}

std::string ClusterFeed::AllocationJson(const AllocationView& allocation) {
  return StrCat("{\"type\": \"allocation\", \"allocation\": ",
                ProtoToJson(AllocationToProto(allocation)), "}");
}

std::string ClusterFeed::TaskJson(const store::TaskRecord& task, const store::TaskEvent& event) {
  TaskView view;
  view.task = task;
  return StrCat("{\"type\": \"task\", \"task\": ", ProtoToJson(TaskStatusToProto(view)),
                ", \"event\": ", EventJson(event), "}");
}

}  // namespace cloudai::master::http
