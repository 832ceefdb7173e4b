#include "worker/agent/master_session.h"

#include <grpcpp/client_context.h>

#include <algorithm>

#include "common/strings.h"
#include "worker/agent/agent_log.h"

namespace cloudai::worker {

MasterSession::MasterSession(SessionOptions options, MasterLink& link, SessionHooks hooks)
    : options_(options), link_(link), hooks_(std::move(hooks)) {}

MasterSession::~MasterSession() { Stop(); }

void MasterSession::Start() {
  thread_ = std::thread([this] { Run(); });
}

void MasterSession::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MasterSession::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool MasterSession::registered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return registered_ && registered_generation_ == link_.Get().generation;
}

bool MasterSession::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return stopping_ || woken_; });
  woken_ = false;
  return !stopping_;
}

bool MasterSession::Register(const MasterLink::Target& target) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + options_.rpc_timeout);
  v1::RegisterAck ack;
  const v1::WorkerInfo info = hooks_.worker_info();
  const grpc::Status status = target.stub->RegisterWorker(&ctx, info, &ack);
  if (!status.ok()) {
    LogLine(StrCat("registering with master ", target.address,
                   " failed (will retry): ", status.error_message()));
    return false;
  }
  if (!ack.success()) {
    LogLine(StrCat("master ", target.address, " refused the registration (will retry): ",
                   ack.message()));
    return false;
  }
  LogLine(StrCat("registered with master ", target.address,
                 target.master_id.empty() ? "" : StrCat(" (", target.master_id, ")"), " with ",
                 info.running_tasks_size(), " running task(s)"));
  return true;
}

grpc::Status MasterSession::StreamBeat(const MasterLink::Target& target,
                                       const v1::Heartbeat& beat, v1::HeartbeatAck* ack,
                                       std::chrono::system_clock::time_point deadline) {
  while (true) {
    const bool reused = stream_ != nullptr;  // (a stream is kept only while it works)
    if (!reused) stream_ = std::make_unique<HeartbeatStream>(*target.stub);
    const grpc::Status status = stream_->Exchange(beat, ack, deadline);
    if (status.ok()) return status;
    stream_.reset();
    // A stream that worked before and broke since (the master restarted, the connection
    // dropped): the heartbeat goes on a new one at once. One that timed out has used the
    // time, and a new one that failed is the answer.
    if (!reused || status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) return status;
  }
}

void MasterSession::Heartbeat(const MasterLink::Target& target) {
  if (stream_generation_ != target.generation) {  // a MasterRegister pointed the link anew
    stream_.reset();
    stream_generation_ = target.generation;
    unary_heartbeats_ = false;
  }
  const auto deadline =
      std::chrono::system_clock::now() +
      std::min(options_.rpc_timeout,
               std::max(options_.heartbeat_interval * 2, std::chrono::milliseconds(1000)));
  const v1::Heartbeat beat = hooks_.heartbeat();
  v1::HeartbeatAck ack;
  grpc::Status status;
  if (!unary_heartbeats_) {
    status = StreamBeat(target, beat, &ack, deadline);
    if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      LogLine(StrCat("master ", target.address,
                     " has no heartbeat stream; sending each heartbeat as a call of its own"));
      unary_heartbeats_ = true;
    }
  }
  if (unary_heartbeats_) {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline);
    status = target.stub->SendHeartbeat(&ctx, beat, &ack);
  }
  if (!status.ok()) {
    if (!heartbeat_failing_) {
      LogLine(StrCat("heartbeat to master ", target.address,
                     " failed: ", status.error_message()));
    }
    heartbeat_failing_ = true;
    return;
  }
  if (heartbeat_failing_) LogLine(StrCat("heartbeats reach master ", target.address, " again"));
  heartbeat_failing_ = false;
  if (!ack.success()) {
    LogLine(StrCat("master ", target.address, " refused a heartbeat (", ack.message(),
                   "); registering again"));
    std::lock_guard<std::mutex> lock(mu_);
    registered_ = false;
    return;
  }
  if (ack.unknown_task_ids_size() > 0 && hooks_.on_unknown_tasks) {
    hooks_.on_unknown_tasks(
        std::vector<std::string>(ack.unknown_task_ids().begin(), ack.unknown_task_ids().end()));
  }
}

void MasterSession::Run() {
  auto backoff = options_.initial_backoff;
  auto next_heartbeat = std::chrono::steady_clock::now();
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    const MasterLink::Target target = link_.Get();
    if (target.stub == nullptr) {  // no master known yet: wait for MasterRegister
      if (!WaitUntil(std::chrono::steady_clock::now() + std::chrono::hours(1))) return;
      continue;
    }
    bool registered;
    {
      std::lock_guard<std::mutex> lock(mu_);
      registered = registered_ && registered_generation_ == target.generation;
    }
    if (!registered) {
      if (Register(target)) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          registered_ = true;
          registered_generation_ = target.generation;
        }
        backoff = options_.initial_backoff;
        heartbeat_failing_ = false;
        if (hooks_.on_registered) hooks_.on_registered(target.address);
        next_heartbeat = std::chrono::steady_clock::now() + options_.heartbeat_interval;
      } else {
        // Until the backoff ends, or at once when a newer MasterRegister arrives.
        const auto until = std::chrono::steady_clock::now() + backoff;
        backoff = std::min(backoff * 2, options_.max_backoff);
        while (link_.Get().generation == target.generation) {
          if (!WaitUntil(until)) return;
          if (std::chrono::steady_clock::now() >= until) break;
        }
        if (link_.Get().generation != target.generation) backoff = options_.initial_backoff;
      }
      continue;
    }
    if (std::chrono::steady_clock::now() < next_heartbeat) {
      if (!WaitUntil(next_heartbeat)) return;
      continue;  // re-check: the link may have changed
    }
    Heartbeat(target);
    next_heartbeat += options_.heartbeat_interval;
    const auto now = std::chrono::steady_clock::now();
    if (next_heartbeat < now) next_heartbeat = now + options_.heartbeat_interval;
  }
}

}  // namespace cloudai::worker
