// HeartbeatStream: the worker's end of one StreamHeartbeats call, the long-lived stream
// that carries every heartbeat of a worker to its master (one message each, answered by
// one acknowledgement), so that a heartbeat costs the master a message on an open stream
// rather than a call of its own.
//
// Every wait is bounded by the deadline the caller gives: a master that stops answering
// breaks the stream (it is cancelled) instead of blocking the worker. A stream that failed
// once stays failed; the caller makes a new one. A master that does not know the RPC
// (older than StreamHeartbeats) shows as UNIMPLEMENTED, so the caller can send unary
// SendHeartbeat calls instead.
//
// Thread safety: one thread at a time (the worker's session thread).
#pragma once

#include <chrono>
#include <memory>

#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/support/async_stream.h>

#include "cloudai/v1/cluster.grpc.pb.h"

namespace cloudai::worker {

class HeartbeatStream {
 public:
  // Starts the call on `stub` (the stub may go away afterwards).
  explicit HeartbeatStream(v1::MasterService::Stub& stub);
  // Cancels the call if it is still open and waits for gRPC to let go of it.
  ~HeartbeatStream();

  HeartbeatStream(const HeartbeatStream&) = delete;
  HeartbeatStream& operator=(const HeartbeatStream&) = delete;

  // Sends `beat` and reads the master's acknowledgement into `ack`, waiting until
  // `deadline` at most. Anything but OK leaves the stream broken (broken() is true) and says
  // why: the master's status when it ended the call (UNIMPLEMENTED, UNAVAILABLE, ...), or
  // DEADLINE_EXCEEDED.
  grpc::Status Exchange(const v1::Heartbeat& beat, v1::HeartbeatAck* ack,
                        std::chrono::system_clock::time_point deadline);

  bool broken() const { return broken_; }

 private:
  enum class Wait { kOk, kFailed, kTimedOut };
  // Waits for the completion of the one operation in flight, tagged `tag`.
  Wait Await(void* tag, std::chrono::system_clock::time_point deadline);
  // Ends the call after a failed operation and returns why it ended.
  grpc::Status Fail(Wait wait, std::chrono::system_clock::time_point deadline);

  grpc::ClientContext context_;
  grpc::CompletionQueue queue_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::Heartbeat, v1::HeartbeatAck>> stream_;
  grpc::Status finish_status_;  // filled in by Finish's completion
  bool started_ = false;   // the start of the call has completed
  bool finished_ = false;  // Finish has been called (and its completion awaited or not)
  bool broken_ = false;
};

}  // namespace cloudai::worker
