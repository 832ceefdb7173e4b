// 200 tasks submitted at once from several threads onto two workers: the master never
// allocates more than a worker has, every task completes, and everything is released.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "cluster.h"
#include "common/strings.h"

namespace cloudai::integration {
namespace {

using ConcurrencyTest = ClusterTest;

constexpr int kTasks = 200;
constexpr int kThreads = 8;

TEST_F(ConcurrencyTest, TwoHundredConcurrentSubmissionsNeverOversubscribe) {
  ASSERT_TRUE(StartMaster());
  ASSERT_NE(StartRegisteredWorker("w1"), nullptr);
  ASSERT_NE(StartRegisteredWorker("w2"), nullptr);

  // Watch the workers through the CLI the whole time.
  std::atomic<bool> stop{false};
  std::atomic<int> samples{0};
  std::atomic<int64_t> most_allocated_cpu{0};
  std::mutex violations_mu;
  std::vector<std::string> violations;
  std::thread sampler([&] {
    while (!stop.load()) {
      CommandResult r = Cli({"-o", "json", "workers"}, seconds(10));
      std::optional<Json> j = r.exit_code == 0 ? ParseJson(r.out) : std::nullopt;
      if (!j.has_value()) {
        std::lock_guard<std::mutex> lock(violations_mu);
        violations.push_back(StrCat("workers -o json failed: ", r.ToString()));
        continue;
      }
      ++samples;
      for (const Json& w : JArr(*j, "workers")) {
        const WorkerResources res = ResourcesOf(w);
        const std::string id = JStr(JObj(w, "info"), "worker_id");
        auto check = [&](const char* dim, int64_t total, int64_t allocated, int64_t available) {
          if (allocated < 0 || allocated > total || available != total - allocated) {
            std::lock_guard<std::mutex> lock(violations_mu);
            violations.push_back(StrCat(id, " ", dim, ": total ", total, ", allocated ",
                                        allocated, ", available ", available));
          }
        };
        check("cpu", res.total.cpu, res.allocated.cpu, res.available.cpu);
        check("memory", res.total.memory, res.allocated.memory, res.available.memory);
        check("storage", res.total.storage, res.allocated.storage, res.available.storage);
        check("gpu", res.total.gpu, res.allocated.gpu, res.available.gpu);
        int64_t seen = most_allocated_cpu.load();
        while (res.allocated.cpu > seen &&
               !most_allocated_cpu.compare_exchange_weak(seen, res.allocated.cpu)) {
        }
      }
    }
  });

  // 250 millicores each: at most four at once per 1000 millicores of a worker, so most
  // wait in the queue for a while.
  std::atomic<int> accepted{0};
  std::mutex errors_mu;
  std::vector<std::string> errors;
  std::vector<std::thread> submitters;
  const Clock::time_point start = Clock::now();
  for (int t = 0; t < kThreads; ++t) {
    submitters.emplace_back([&, t] {
      std::unique_ptr<cloudai::v1::ClusterService::Stub> stub = ClusterStub();
      for (int i = t; i < kTasks; i += kThreads) {
        cloudai::v1::SubmitTaskRequest request;
        cloudai::v1::Task* task = request.mutable_task();
        task->set_task_id(StrCat("c-", i));
        task->set_docker_image(kAnyImage);
        task->set_command(StrCat("sleep 0.", i % 3 + 1, "; echo done-", i));
        task->set_req_cpu(250);
        task->set_req_memory(16);
        task->set_req_storage(1);
        cloudai::v1::TaskStatus response;
        std::unique_ptr<grpc::ClientContext> context = Context();
        grpc::Status status = stub->SubmitTask(context.get(), request, &response);
        if (status.ok()) {
          ++accepted;
        } else {
          std::lock_guard<std::mutex> lock(errors_mu);
          errors.push_back(StrCat("c-", i, ": ", status.error_code(), " ",
                                  status.error_message()));
        }
      }
    });
  }
  for (std::thread& t : submitters) t.join();
  EXPECT_EQ(accepted.load(), kTasks) << (errors.empty() ? "" : errors.front());

  // All of them complete.
  std::optional<std::vector<cloudai::v1::TaskStatus>> tasks;
  int completed = 0;
  const bool all_done = WaitUntil(
      [&] {
        tasks = ListAllTasks();
        if (!tasks.has_value()) return false;
        completed = 0;
        for (const cloudai::v1::TaskStatus& t : *tasks) completed += t.status() == "completed";
        return completed == kTasks;
      },
      seconds(120), milliseconds(500));
  const auto elapsed = Clock::now() - start;
  stop = true;
  sampler.join();
  ASSERT_TRUE(all_done) << completed << " of " << kTasks << " completed within 120 s";
  std::printf("[ cluster  ] %d tasks completed in %.1f s; %d samples of the workers\n", kTasks,
              std::chrono::duration<double>(elapsed).count(), samples.load());

  {
    std::lock_guard<std::mutex> lock(violations_mu);
    EXPECT_TRUE(violations.empty()) << violations.size() << " bad samples, the first: "
                                    << violations.front();
  }
  EXPECT_GT(samples.load(), 3);
  EXPECT_GT(most_allocated_cpu.load(), 0) << "never saw a task's allocation";

  ASSERT_TRUE(tasks.has_value());
  EXPECT_EQ(tasks->size(), static_cast<size_t>(kTasks));
  std::set<std::string> ids;
  std::map<std::string, int> per_worker;
  for (const cloudai::v1::TaskStatus& t : *tasks) {
    ids.insert(t.task().task_id());
    ++per_worker[t.worker_id()];
    EXPECT_EQ(t.exit_code(), 0) << t.task().task_id();
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kTasks));
  EXPECT_GT(per_worker["w1"], 0);
  EXPECT_GT(per_worker["w2"], 0);
  EXPECT_EQ(per_worker["w1"] + per_worker["w2"], kTasks);

  // Everything released: each worker has its whole total available again.
  for (const char* id : {"w1", "w2"}) {
    EXPECT_TRUE(WaitWorkerIdle(id, seconds(5))) << id;
    std::optional<Json> w = WorkerStatus(id);
    ASSERT_TRUE(w.has_value());
    const WorkerResources r = ResourcesOf(*w);
    EXPECT_EQ(r.available.cpu, r.total.cpu) << id;
    EXPECT_EQ(r.available.memory, r.total.memory) << id;
    EXPECT_EQ(r.available.storage, r.total.storage) << id;
    EXPECT_EQ(r.available.gpu, r.total.gpu) << id;
    EXPECT_TRUE(JArr(*w, "running_task_ids").empty()) << w->dump();
  }
  std::optional<Json> queue = CliJson({"queue"});
  ASSERT_TRUE(queue.has_value());
  EXPECT_TRUE(JArr(*queue, "tasks").empty());
}

}  // namespace
}  // namespace cloudai::integration
