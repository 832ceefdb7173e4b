// The fixture of the Cluster tests: a real SQLite store in a temporary directory, a
// simulated clock, and a gateway that answers for the workers.
#pragma once

#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "master/cluster.h"

namespace cloudai::master {
namespace testing_fixture {

using store::TaskState;

inline std::string Message(const absl::Status& s) { return std::string(s.message()); }

constexpr int64_t kGiB = 1024;


// A gateway that records what the cluster sends and answers from its own thread, as the
// real one does: assignments are accepted unless told otherwise.
class FakeGateway final : public WorkerGateway {
 public:
  FakeGateway() : thread_([this] { Run(); }) {}
  ~FakeGateway() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    thread_.join();
  }

  void AnnounceMaster(const std::string& worker_id, const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    announced_.push_back(worker_id);
  }
  void DeliverAssignment(const std::string& worker_id, const std::string&,
                         const store::TaskRecord& task, ReplyCallback done) override {
    std::lock_guard<std::mutex> lock(mu_);
    assigned_.push_back(task.task_id + "@" + worker_id);
    if (drop_assignments_) return;
    WorkerReply reply = assign_reply_;
    jobs_.push_back([done, reply] { done(reply); });
    cv_.notify_all();
  }
  void DeliverCancel(const std::string& worker_id, const std::string&, const std::string& task_id,
                     ReplyCallback done) override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_.push_back(task_id + "@" + worker_id);
    WorkerReply reply = cancel_reply_;
    auto then = on_cancel_;
    jobs_.push_back([done, reply, then, task_id, worker_id] {
      done(reply);
      if (then) then(task_id, worker_id);
    });
    cv_.notify_all();
  }
  void Forget(const std::string&) override {}

  void SetAssignReply(WorkerReply reply) {
    std::lock_guard<std::mutex> lock(mu_);
    assign_reply_ = reply;
  }
  // Assignments vanish without an answer (the master dies before the worker replies).
  void DropAssignments(bool drop) {
    std::lock_guard<std::mutex> lock(mu_);
    drop_assignments_ = drop;
  }
  void SetCancelReply(WorkerReply reply,
                      std::function<void(const std::string&, const std::string&)> then) {
    std::lock_guard<std::mutex> lock(mu_);
    cancel_reply_ = reply;
    on_cancel_ = std::move(then);
  }
  // Waits until every queued reply has been delivered.
  void Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return jobs_.empty() && !busy_; });
  }
  std::vector<std::string> announced() {
    std::lock_guard<std::mutex> lock(mu_);
    return announced_;
  }
  std::vector<std::string> assigned() {
    std::lock_guard<std::mutex> lock(mu_);
    return assigned_;
  }
  std::vector<std::string> cancelled() {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      busy_ = true;
      lock.unlock();
      job();
      lock.lock();
      busy_ = false;
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool busy_ = false;
  bool stop_ = false;
  bool drop_assignments_ = false;
  WorkerReply assign_reply_{true, true, "accepted"};
  WorkerReply cancel_reply_{true, true, "cancelling"};
  std::function<void(const std::string&, const std::string&)> on_cancel_;
  std::vector<std::string> announced_, assigned_, cancelled_;
  std::thread thread_;
};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cloudai-cluster-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    OpenCluster();
  }
  void TearDown() override {
    cluster_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void OpenCluster(std::string scheduler = "best-fit") {
    cluster_.reset();
    if (store_) store_->Close();
    store_.reset();
    auto store = store::OpenStore("sqlite:" + (dir_ / "cloudai.db").string());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    ClusterOptions options;
    options.scheduler = scheduler;
    options.inactivity_timeout = std::chrono::seconds(30);
    options.lost_grace = std::chrono::seconds(60);
    options.max_log_bytes = 64;
    options.on_store_failure = [](const absl::Status& s) { ADD_FAILURE() << s; };
    options.allocations = allocation_settings_;
    auto cluster = Cluster::Create(*store_, gateway_, clock_, options);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
  }

  void Join(const std::string& id, int64_t cpu_millis, int64_t memory_mib,
            std::vector<std::string> running = {}) {
    WorkerJoin join;
    join.worker_id = id;
    join.address = "127.0.0.1:50052";
    join.total = Resources::Of(cpu_millis, memory_mib, 100 * kGiB);
    join.driver = "exec";
    join.running_task_ids = std::move(running);
    ASSERT_TRUE(cluster_->WorkerJoined(join).ok());
  }
  void AddWorker(const std::string& id, int64_t cpu_millis, int64_t memory_mib) {
    ASSERT_TRUE(cluster_->RegisterWorker(id, "127.0.0.1:50052").ok());
    Join(id, cpu_millis, memory_mib);
  }

  static store::TaskRecord Task(int64_t cpu_millis, int64_t memory_mib, std::string id = "") {
    store::TaskRecord task;
    task.task_id = std::move(id);
    task.docker_image = "busybox:latest";
    task.command = "echo hi";
    task.request = Resources::Of(cpu_millis, memory_mib);
    return task;
  }

  TaskState StateOf(const std::string& id) {
    auto view = cluster_->GetTask(id);
    EXPECT_TRUE(view.ok()) << view.status();
    return view.ok() ? view->task.status : TaskState::kPending;
  }

  WorkerView Worker(const std::string& id) {
    auto view = cluster_->GetWorker(id);
    EXPECT_TRUE(view.ok()) << view.status();
    return view.ok() ? *view : WorkerView{};
  }

  // Places what can be placed and lets the workers accept.
  void Schedule() {
    cluster_->SchedulePass(/*force=*/true);
    Settle();
  }
  // Waits until every commit handed to the store so far has run its callback (commits
  // complete in order) and the gateway has delivered every reply.
  void Settle() {
    for (int i = 0; i < 2; ++i) {  // replies commit too: settle those as well
      store::Batch barrier;
      barrier.SetCounter("test.barrier", ++barrier_);
      ASSERT_TRUE(store_->Commit(std::move(barrier)).ok());
      gateway_.Drain();
    }
  }

  absl::Status Complete(const std::string& id, const std::string& worker, std::string status = "completed",
                        int exit_code = 0, std::string logs = "hi\n") {
    TaskCompletion completion;
    completion.task_id = id;
    completion.worker_id = worker;
    completion.status = std::move(status);
    completion.exit_code = exit_code;
    completion.logs = std::move(logs);
    return cluster_->TaskEnded(completion);
  }

  std::filesystem::path dir_;
  AllocationSettings allocation_settings_;  // used by OpenCluster()
  int64_t barrier_ = 0;
  SimulatedClock clock_;
  FakeGateway gateway_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Cluster> cluster_;
};

}  // namespace testing_fixture
}  // namespace cloudai::master
