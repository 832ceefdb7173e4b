#include "master/http/websocket_hub.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace cloudai::master::http {
namespace {

class FakeSubscriber : public Subscriber {
 public:
  explicit FakeSubscriber(size_t capacity) : capacity_(capacity) {}
  bool Offer(Message message) override {
    if (received.size() >= capacity_) return false;
    received.push_back(*message);
    return true;
  }
  void Drop(std::string_view reason) override { dropped = std::string(reason); }

  std::vector<std::string> received;
  std::string dropped;

 private:
  size_t capacity_;
};

Message M(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

TEST(WebSocketHubTest, RoutesBySubscription) {
  WebSocketHub hub;
  auto all = std::make_shared<FakeSubscriber>(100);
  auto one = std::make_shared<FakeSubscriber>(100);
  auto events = std::make_shared<FakeSubscriber>(100);
  hub.Add(all, {Subscription::Stream::kTelemetry, ""}, [] { return std::string("snapshot"); });
  hub.Add(one, {Subscription::Stream::kTelemetry, "w2"});
  hub.Add(events, {Subscription::Stream::kEvents, ""});
  EXPECT_EQ(hub.clients(), 3u);
  hub.PublishHeartbeat("w1", M("hb1"));
  hub.PublishHeartbeat("w2", M("hb2"));
  hub.PublishWorker("w1", M("worker1"));
  hub.PublishEvent(M("task"));
  EXPECT_EQ(all->received, (std::vector<std::string>{"snapshot", "hb1", "hb2", "worker1"}));
  EXPECT_EQ(one->received, (std::vector<std::string>{"hb2"}));
  EXPECT_EQ(events->received, (std::vector<std::string>{"worker1", "task"}));
}

TEST(WebSocketHubTest, SlowSubscriberIsDroppedWithoutStallingOthers) {
  WebSocketHub hub;
  auto slow = std::make_shared<FakeSubscriber>(10);
  auto fast = std::make_shared<FakeSubscriber>(1'000'000);
  uint64_t slow_id = hub.Add(slow, {Subscription::Stream::kTelemetry, ""});
  hub.Add(fast, {Subscription::Stream::kTelemetry, ""});
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100'000; ++i) hub.PublishHeartbeat("w", M("x"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(slow->dropped, "too slow");
  EXPECT_EQ(slow->received.size(), 10u);
  EXPECT_EQ(fast->received.size(), 100'000u);
  EXPECT_EQ(hub.clients(), 1u);
  EXPECT_EQ(hub.dropped_clients(), 1u);
  hub.Remove(slow_id);  // already gone: harmless
  EXPECT_EQ(hub.clients(), 1u);
}

// Counts the OfferAll() calls: heartbeats published together arrive together.
class BatchingSubscriber : public FakeSubscriber {
 public:
  using FakeSubscriber::FakeSubscriber;
  bool OfferAll(const std::vector<Message>& messages) override {
    batches++;
    return FakeSubscriber::OfferAll(messages);
  }
  int batches = 0;
};

TEST(WebSocketHubTest, HeartbeatsPublishedTogetherArriveInOneOffer) {
  WebSocketHub hub;
  auto all = std::make_shared<BatchingSubscriber>(100);
  auto one = std::make_shared<BatchingSubscriber>(100);
  auto other = std::make_shared<BatchingSubscriber>(100);
  auto events = std::make_shared<BatchingSubscriber>(100);
  auto slow = std::make_shared<BatchingSubscriber>(2);
  hub.Add(all, {Subscription::Stream::kTelemetry, ""});
  hub.Add(one, {Subscription::Stream::kTelemetry, "w1"});
  hub.Add(other, {Subscription::Stream::kTelemetry, "w9"});
  hub.Add(events, {Subscription::Stream::kEvents, ""});
  hub.Add(slow, {Subscription::Stream::kTelemetry, ""});
  hub.PublishHeartbeats({{"w1", M("a")}, {"w2", M("b")}, {"w1", M("c")}});
  EXPECT_EQ(all->received, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(all->batches, 1);
  EXPECT_EQ(one->received, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(one->batches, 1);
  EXPECT_EQ(other->batches, 0);  // nothing of w9
  EXPECT_EQ(events->batches, 0);
  EXPECT_EQ(slow->dropped, "too slow");  // three do not fit in its two places
  EXPECT_EQ(hub.clients(), 4u);
  hub.PublishHeartbeats({});
  EXPECT_EQ(all->batches, 1);
}

}  // namespace
}  // namespace cloudai::master::http
