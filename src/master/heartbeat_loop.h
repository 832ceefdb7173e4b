// HeartbeatLoop: serves the master's two heartbeat RPCs, StreamHeartbeats (one long-lived
// stream per worker) and SendHeartbeat (one call per heartbeat, for older workers), on
// gRPC's asynchronous API from one thread of its own, which also does the heartbeat's work
// (MasterServiceImpl::Beat) and writes the acknowledgement.
//
// Why one thread, and why it pauses: 10,000 workers send 2,000 heartbeats a second, one
// every 0.5 ms. Woken for each, a thread spends more on being woken (a context switch, and
// with several gRPC threads a hand-off between them) than on the heartbeat. So when a round
// found work, the loop sleeps `batch_interval` (5 ms by default) and then takes every
// completion that arrived meanwhile in one go; when a round found nothing, it blocks until
// the next one arrives, so an idle master does not wake up for nothing. A heartbeat waits
// `batch_interval` at most before it is read; nothing depends on a shorter wait.
//
// Lifecycle: construct with the service and the completion queue the ServerBuilder made
// (AddCompletionQueue) before the server starts, Start() once it has, and Stop() after the
// server's Shutdown(): gRPC requires the server to shut down before its completion queues.
//
// Thread safety: Start and Stop from one thread; everything else runs on the loop's thread.
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include <grpcpp/alarm.h>
#include <grpcpp/completion_queue.h>

#include "master/master_service.h"

namespace cloudai::master {

class HeartbeatLoop {
 public:
  HeartbeatLoop(MasterServiceImpl& service, std::unique_ptr<grpc::ServerCompletionQueue> queue,
                std::chrono::milliseconds batch_interval = std::chrono::milliseconds(5));
  ~HeartbeatLoop();

  HeartbeatLoop(const HeartbeatLoop&) = delete;
  HeartbeatLoop& operator=(const HeartbeatLoop&) = delete;

  // Asks gRPC for the first call of each RPC and starts the thread.
  void Start();
  // Has the thread shut the queue down, let go of every call still open, and end; joins it.
  // Call it after the server's Shutdown() (every call is cancelled by then).
  void Stop();

  // One call being served: gRPC hands back its tag (the call itself) when an operation on it
  // completes, and Proceed moves it on.
  class Call {
   public:
    virtual ~Call() = default;
    virtual void Proceed(bool ok) = 0;
  };

 private:
  void Run();

  MasterServiceImpl& service_;
  std::unique_ptr<grpc::ServerCompletionQueue> queue_;
  const std::chrono::milliseconds batch_interval_;
  grpc::Alarm wake_;  // wakes the thread to shut the queue down
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace cloudai::master
