#include "worker/agent/completion_reporter.h"

#include <grpcpp/client_context.h>

#include <algorithm>

#include "common/strings.h"
#include "worker/agent/agent_log.h"

namespace cloudai::worker {
namespace {

bool Contains(const std::string& haystack, std::string_view needle) {
  return AsciiLower(haystack).find(needle) != std::string::npos;
}

}  // namespace

CompletionReporter::CompletionReporter(
    ReporterOptions options, MasterLink& link,
    std::function<void(const std::string& task_id)> on_acknowledged)
    : options_(std::move(options)),
      link_(link),
      on_acknowledged_(std::move(on_acknowledged)),
      backoff_(options_.initial_backoff) {
  thread_ = std::thread([this] { Run(); });
}

CompletionReporter::~CompletionReporter() { Stop(std::chrono::milliseconds(0)); }

void CompletionReporter::Report(const std::string& task_id, const TaskExit& exit,
                                std::shared_ptr<LogSpool> spool) {
  auto job = std::make_shared<Job>();
  job->task_id = task_id;
  job->exit = exit;
  job->spool = std::move(spool);
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_all();
}

void CompletionReporter::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    retry_at_ = {};
    backoff_ = options_.initial_backoff;
  }
  cv_.notify_all();
}

void CompletionReporter::Stop(std::chrono::milliseconds drain) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      drain_deadline_ = std::chrono::steady_clock::now() + drain;
    }
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (!queue_.empty()) {
    LogLine(StrCat("stopping with ", queue_.size(),
                   " task result(s) the master has not acknowledged"));
  }
}

size_t CompletionReporter::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

v1::TaskResult CompletionReporter::BuildResult(const std::string& worker_id,
                                               const std::string& task_id, const TaskExit& exit,
                                               const LogSpool* spool, int64_t max_log_bytes) {
  v1::TaskResult r;
  r.set_task_id(task_id);
  r.set_worker_id(worker_id);
  r.set_status(exit.status);
  r.set_exit_code(exit.exit_code);
  r.set_error(exit.error);
  r.set_started_at_ms(exit.started_at_ms);
  r.set_finished_at_ms(exit.finished_at_ms);
  if (spool != nullptr) {
    r.set_result_location(spool->path());
    absl::StatusOr<LogSpool::Collected> logs = spool->Collect(max_log_bytes);
    if (logs.ok()) {
      r.set_logs(std::move(logs->text));
      r.set_logs_truncated(logs->truncated);
    } else {
      r.set_logs(StrCat("[cloudai] the task's log could not be read: ",
                        std::string(logs.status().message()), "\n"));
    }
  }
  return r;
}

CompletionReporter::Outcome CompletionReporter::Send(Job& job) {
  if (!job.result.has_value()) {
    job.result = BuildResult(options_.worker_id, job.task_id, job.exit, job.spool.get(),
                             options_.max_log_bytes);
  }
  MasterLink::Target target = link_.Get();
  if (target.stub == nullptr) return Outcome::kRetry;  // no master known yet
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + options_.rpc_timeout);
  v1::Ack ack;
  const grpc::Status status = target.stub->ReportTaskCompletion(&ctx, *job.result, &ack);
  if (status.ok() && ack.success()) return Outcome::kAcknowledged;
  if (status.ok() && Contains(ack.message(), "unknown task")) {
    LogLine(StrCat("master ", target.address, " refused the result of task ", job.task_id,
                   ": ", ack.message()));
    return Outcome::kRefused;
  }
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
      status.error_code() == grpc::StatusCode::NOT_FOUND) {
    LogLine(StrCat("master ", target.address, " refused the result of task ", job.task_id,
                   ": ", status.error_message()));
    return Outcome::kRefused;
  }
  LogLine(StrCat("reporting task ", job.task_id, " to master ", target.address,
                 " failed (will retry): ",
                 status.ok() ? ack.message() : StrCat(status.error_message(), " (code ",
                                                      static_cast<int>(status.error_code()),
                                                      ")")));
  return Outcome::kRetry;
}

void CompletionReporter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    if (stopping_ && (queue_.empty() || now >= drain_deadline_)) return;
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    if (now < retry_at_) {
      auto until = retry_at_;
      if (stopping_) until = std::min(until, drain_deadline_);
      cv_.wait_until(lock, until);
      continue;
    }
    std::shared_ptr<Job> job = queue_.front();
    lock.unlock();
    const Outcome outcome = Send(*job);
    if (outcome != Outcome::kRetry) on_acknowledged_(job->task_id);
    lock.lock();
    if (outcome == Outcome::kRetry) {
      // To the back of the queue, and wait before the next try.
      if (!queue_.empty() && queue_.front() == job) {
        queue_.pop_front();
        queue_.push_back(job);
      }
      retry_at_ = std::chrono::steady_clock::now() + backoff_;
      backoff_ = std::min(backoff_ * 2, options_.max_backoff);
    } else {
      queue_.erase(std::remove(queue_.begin(), queue_.end(), job), queue_.end());
      backoff_ = options_.initial_backoff;
    }
  }
}

}  // namespace cloudai::worker
