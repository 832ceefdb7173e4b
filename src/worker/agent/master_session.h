// MasterSession: the CloudAI worker's side of its relationship with the master, on one
// thread: register (RegisterWorker) whenever the link points at a new master, then send a
// heartbeat every interval.
//
// Heartbeats go on one long-lived stream (StreamHeartbeats, see heartbeat_stream.h), opened
// after registering and kept while it works. A stream that breaks (the master restarted,
// the connection dropped) is replaced at once by a new one for the same heartbeat; a master
// that answers UNIMPLEMENTED (older than the stream) gets unary SendHeartbeat calls until
// the link changes.
//
// Registration is retried with exponential backoff until the master accepts it or a newer
// MasterRegister arrives (the link's generation changes: register there at once). Refusals
// are logged with the master's message. A heartbeat answered with success=false (the
// master does not know this worker, e.g. after losing its state) sends the worker back to
// registering; the task ids listed in unknown_task_ids go to `on_unknown_tasks`. A
// heartbeat that cannot be delivered is logged once until one gets through again.
//
// Thread safety: every method may be called from any thread; the hooks run on the
// session's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cloudai/v1/cluster.pb.h"
#include "worker/agent/heartbeat_stream.h"
#include "worker/agent/master_link.h"

namespace cloudai::worker {

struct SessionOptions {
  std::chrono::milliseconds heartbeat_interval{5000};
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds rpc_timeout{10000};
};

struct SessionHooks {
  std::function<v1::WorkerInfo()> worker_info;
  std::function<v1::Heartbeat()> heartbeat;
  std::function<void(const std::vector<std::string>& task_ids)> on_unknown_tasks;
  std::function<void(const std::string& master_address)> on_registered;
};

class MasterSession {
 public:
  MasterSession(SessionOptions options, MasterLink& link, SessionHooks hooks);
  ~MasterSession();

  MasterSession(const MasterSession&) = delete;
  MasterSession& operator=(const MasterSession&) = delete;

  void Start();
  // Stops the thread (an RPC in flight ends at its deadline at the latest).
  void Stop();
  // The link changed: look at it now.
  void Wake();
  bool registered() const;

 private:
  void Run();
  // Waits until `deadline`, Wake() or Stop(); false once stopping.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline);
  bool Register(const MasterLink::Target& target);
  void Heartbeat(const MasterLink::Target& target);
  // Sends `beat` on the heartbeat stream to `target`, opening one if there is none, and once
  // more on a new stream when the one that had worked has broken since.
  grpc::Status StreamBeat(const MasterLink::Target& target, const v1::Heartbeat& beat,
                          v1::HeartbeatAck* ack, std::chrono::system_clock::time_point deadline);

  const SessionOptions options_;
  MasterLink& link_;
  const SessionHooks hooks_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  bool registered_ = false;
  uint64_t registered_generation_ = 0;
  bool heartbeat_failing_ = false;
  // The heartbeat stream, and the link generation it (or the lack of one) belongs to; the
  // session's thread alone touches these.
  std::unique_ptr<HeartbeatStream> stream_;
  uint64_t stream_generation_ = 0;
  bool unary_heartbeats_ = false;  // the master has no heartbeat stream
  std::thread thread_;
};

}  // namespace cloudai::worker
