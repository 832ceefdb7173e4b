// CompletionReporter: sends each finished task's TaskResult to the master
// (ReportTaskCompletion) on a thread of its own, retrying until the master acknowledges
// it, so no result is lost while the master is unreachable or restarting.
//
// Report() only queues (it is called from driver threads, which must not block). The
// reporter thread builds the result (status, exit code, error, times, and the task's log
// bounded to max_log_bytes with a truncation mark) and sends it. An answer is final when
// the master says success, or refuses the result for good: success=false with a message
// containing "unknown task", or the gRPC codes INVALID_ARGUMENT / NOT_FOUND. Anything else
// (UNAVAILABLE, a deadline, success=false for another reason such as an unregistered
// worker) is retried with exponential backoff; Wake() retries at once (a master just
// announced itself). Failed results go to the back of the queue so one refused result
// does not hold up the others.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cloudai/v1/cluster.pb.h"
#include "worker/agent/master_link.h"
#include "worker/driver/driver.h"
#include "worker/driver/log_spool.h"

namespace cloudai::worker {

struct ReporterOptions {
  std::string worker_id;
  int64_t max_log_bytes = int64_t{1} << 20;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds rpc_timeout{10000};
};

class CompletionReporter {
 public:
  // `on_acknowledged` runs on the reporter thread once the master has taken a result (or
  // refused it for good).
  CompletionReporter(ReporterOptions options, MasterLink& link,
                     std::function<void(const std::string& task_id)> on_acknowledged);
  ~CompletionReporter();

  CompletionReporter(const CompletionReporter&) = delete;
  CompletionReporter& operator=(const CompletionReporter&) = delete;

  void Report(const std::string& task_id, const TaskExit& exit, std::shared_ptr<LogSpool> spool);
  void Wake();
  // Keeps trying what is queued until `drain` has passed, then stops the thread.
  void Stop(std::chrono::milliseconds drain);
  // Results not yet acknowledged.
  size_t pending() const;

  // The TaskResult for a finished task.
  static v1::TaskResult BuildResult(const std::string& worker_id, const std::string& task_id,
                                    const TaskExit& exit, const LogSpool* spool,
                                    int64_t max_log_bytes);

 private:
  struct Job {
    std::string task_id;
    TaskExit exit;
    std::shared_ptr<LogSpool> spool;
    std::optional<v1::TaskResult> result;  // built on first send
  };
  enum class Outcome { kAcknowledged, kRefused, kRetry };

  void Run();
  Outcome Send(Job& job);

  const ReporterOptions options_;
  MasterLink& link_;
  const std::function<void(const std::string&)> on_acknowledged_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_deadline_{};
  std::thread thread_;
};

}  // namespace cloudai::worker
