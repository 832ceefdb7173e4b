#include "cloudai/rm/load_monitor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cloudai/rm/resource_manager.h"
#include "test_util.h"

namespace cloudai::rm {
namespace {

using std::chrono::seconds;
using testing::Eventually;

// A target with one type whose numbers the test sets by hand.
class FakeTarget : public LoadTarget {
 public:
  std::vector<Sample> SampleLoad() override {
    std::lock_guard<std::mutex> lock(mu_);
    return {sample_};
  }
  void ScaleCapacity(const std::string& type, int64_t capacity) override {
    std::lock_guard<std::mutex> lock(mu_);
    sample_.capacity = capacity;
  }
  void Set(int64_t capacity, int64_t in_use) {
    std::lock_guard<std::mutex> lock(mu_);
    sample_.capacity = capacity;
    sample_.in_use = in_use;
  }
  int64_t capacity() {
    std::lock_guard<std::mutex> lock(mu_);
    return sample_.capacity;
  }

 private:
  std::mutex mu_;
  Sample sample_{"cpu", 100, 0, /*min_capacity=*/40, /*max_capacity=*/200};
};

TEST(LoadMonitorTest, RejectsInvalidOptions) {
  FakeTarget target;
  LoadMonitorOptions options;
  options.scale_down_threshold = 80;
  options.scale_up_threshold = 80;
  EXPECT_EQ(LoadMonitor::Create(target, options).status().code(), Code::kInvalidArgument);
  options = {};
  options.scale_up_threshold = 120;
  EXPECT_EQ(LoadMonitor::Create(target, options).status().code(), Code::kInvalidArgument);
  options = {};
  options.scale_up_factor = 1;
  EXPECT_EQ(LoadMonitor::Create(target, options).status().code(), Code::kInvalidArgument);
  options = {};
  options.scale_down_factor = 1.5;
  EXPECT_EQ(LoadMonitor::Create(target, options).status().code(), Code::kInvalidArgument);
  options = {};
  options.interval = seconds(0);
  EXPECT_EQ(LoadMonitor::Create(target, options).status().code(), Code::kInvalidArgument);
}

TEST(LoadMonitorTest, ScalesUpAndDownWithinBounds) {
  FakeTarget target;
  auto monitor = std::move(*LoadMonitor::Create(target, {}));  // 80/20 %, x1.5 / x0.5
  target.Set(100, 85);
  monitor->CheckNow();
  EXPECT_EQ(target.capacity(), 150);
  target.Set(150, 140);
  monitor->CheckNow();
  EXPECT_EQ(target.capacity(), 200);  // 225 capped at max_capacity
  monitor->CheckNow();
  EXPECT_EQ(target.capacity(), 200);

  target.Set(200, 0);
  monitor->CheckNow();
  EXPECT_EQ(target.capacity(), 100);
  monitor->CheckNow();
  EXPECT_EQ(target.capacity(), 50);
  monitor->CheckNow();
  EXPECT_EQ(target.capacity(), 40);  // 25 raised to min_capacity

  target.Set(100, 50);  // between the thresholds: unchanged
  monitor->CheckNow();
  EXPECT_EQ(target.capacity(), 100);
}

TEST(LoadMonitorTest, NeverScalesBelowWhatIsInUse) {
  FakeTarget target;
  LoadMonitorOptions options;
  options.scale_down_factor = 0.1;
  auto monitor = std::move(*LoadMonitor::Create(target, options));
  target.Set(400, 60);  // 15 %: 40 would be allowed by min_capacity, but 60 are in use
  monitor->CheckNow();
  EXPECT_EQ(target.capacity(), 60);
}

TEST(LoadMonitorTest, CallbacksReceiveTheLoad) {
  FakeTarget target;
  LoadMonitorOptions options;
  options.auto_scale = false;
  auto monitor = std::move(*LoadMonitor::Create(target, options));
  std::vector<std::pair<std::string, double>> seen;
  monitor->RegisterCallback(
      [&](const std::string& type, double load) { seen.emplace_back(type, load); });
  target.Set(100, 90);
  monitor->CheckNow();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, "cpu");
  EXPECT_DOUBLE_EQ(seen[0].second, 90);
  EXPECT_EQ(target.capacity(), 100);  // auto-scaling off
}

TEST(LoadMonitorTest, ChecksRunEveryIntervalOfTheClock) {
  FakeTarget target;
  auto clock = std::make_shared<SimulatedClock>();
  LoadMonitorOptions options;
  options.interval = seconds(5);
  options.clock = clock;
  auto monitor = std::move(*LoadMonitor::Create(target, options));
  std::atomic<int> checks{0};
  monitor->RegisterCallback([&](const std::string&, double) { ++checks; });
  target.Set(100, 90);
  monitor->Start();

  clock->Advance(seconds(4));
  EXPECT_EQ(checks.load(), 0);
  clock->Advance(seconds(1));
  ASSERT_TRUE(Eventually([&] { return checks.load() == 1; }));
  EXPECT_TRUE(Eventually([&] { return target.capacity() == 150; }));
  clock->Advance(seconds(5));
  ASSERT_TRUE(Eventually([&] { return checks.load() == 2; }));
  monitor->Stop();
  clock->Advance(seconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(checks.load(), 2);  // no checks after Stop
}

class ManagerScalingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ResourceManagerConfig config;
    config.types = {{"cpu", 100, 0, 0, /*min_capacity=*/50, /*max_capacity=*/150}};
    config.monitor_interval = seconds(1);
    config.clock = clock_;
    manager_ = std::move(*ResourceManager::Create(config));
  }

  int64_t Capacity() { return manager_->GetPoolStats("cpu")->capacity; }

  std::shared_ptr<SimulatedClock> clock_ = std::make_shared<SimulatedClock>();
  std::unique_ptr<ResourceManager> manager_;
};

TEST_F(ManagerScalingTest, ScalesUpAboveAndDownBelowTheThresholds) {
  std::mutex mu;
  std::map<std::string, double> last_load;
  manager_->RegisterLoadCallback([&](const std::string& type, double load) {
    std::lock_guard<std::mutex> lock(mu);
    last_load[type] = load;
  });
  ASSERT_TRUE(manager_->Acquire("a", "cpu", 90).ok());
  manager_->CheckLoadNow();
  EXPECT_EQ(Capacity(), 150);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_DOUBLE_EQ(last_load["cpu"], 90);
  }
  ASSERT_TRUE(manager_->Acquire("a", "cpu", 50).ok());  // 140 / 150
  manager_->CheckLoadNow();
  EXPECT_EQ(Capacity(), 150);  // at max_capacity

  ASSERT_TRUE(manager_->Release("a", "cpu", 140).ok());
  manager_->CheckLoadNow();
  EXPECT_EQ(Capacity(), 75);
  manager_->CheckLoadNow();
  EXPECT_EQ(Capacity(), 50);  // at min_capacity
}

TEST_F(ManagerScalingTest, MonitorThreadFollowsTheClock) {
  std::atomic<int> calls{0};
  manager_->RegisterLoadCallback([&](const std::string&, double) { ++calls; });
  ASSERT_TRUE(manager_->Acquire("a", "cpu", 95).ok());
  clock_->Advance(seconds(1));
  ASSERT_TRUE(Eventually([&] { return Capacity() == 150; }));
  EXPECT_GE(calls.load(), 1);
  manager_->Stop();  // joins the monitor thread
}

TEST_F(ManagerScalingTest, ScaleDownKeepsRoomForWaiters) {
  ASSERT_TRUE(manager_->Acquire("a", "cpu", 10).ok());
  auto waiter = std::async(std::launch::async, [&] { return manager_->Acquire("b", "cpu", 95); });
  ASSERT_TRUE(Eventually([&] { return manager_->GetPoolStats("cpu")->waiting == 1; }));
  manager_->CheckLoadNow();  // 10 %: would go to 50, but a waiter asks for 95
  EXPECT_EQ(Capacity(), 95);
  ASSERT_TRUE(manager_->Release("a", "cpu", 10).ok());
  ASSERT_TRUE(testing::Resolves(waiter));
  EXPECT_TRUE(waiter.get().ok());
}

}  // namespace
}  // namespace cloudai::rm
