#include "worker/agent/heartbeat_stream.h"

namespace cloudai::worker {
namespace {

// One operation is in flight at a time; its tag says which.
void* const kStart = reinterpret_cast<void*>(1);
void* const kWrite = reinterpret_cast<void*>(2);
void* const kRead = reinterpret_cast<void*>(3);
void* const kFinish = reinterpret_cast<void*>(4);

}  // namespace

HeartbeatStream::HeartbeatStream(v1::MasterService::Stub& stub) {
  stream_ = stub.AsyncStreamHeartbeats(&context_, &queue_, kStart);
}

HeartbeatStream::~HeartbeatStream() {
  if (!finished_) {
    context_.TryCancel();
    stream_->Finish(&finish_status_, kFinish);
  }
  // Every operation's completion (a cancelled one's too) comes off the queue before it is
  // gone.
  queue_.Shutdown();
  void* tag;
  bool ok;
  while (queue_.Next(&tag, &ok)) {
  }
}

HeartbeatStream::Wait HeartbeatStream::Await(void* tag,
                                             std::chrono::system_clock::time_point deadline) {
  while (true) {
    void* got = nullptr;
    bool ok = false;
    switch (queue_.AsyncNext(&got, &ok, deadline)) {
      case grpc::CompletionQueue::GOT_EVENT:
        if (got == tag) return ok ? Wait::kOk : Wait::kFailed;
        break;  // the late completion of an operation given up on before
      case grpc::CompletionQueue::TIMEOUT:
        return Wait::kTimedOut;
      case grpc::CompletionQueue::SHUTDOWN:
        return Wait::kFailed;
    }
  }
}

grpc::Status HeartbeatStream::Fail(Wait wait, std::chrono::system_clock::time_point deadline) {
  broken_ = true;
  if (wait == Wait::kTimedOut) {
    context_.TryCancel();
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "the master did not answer the heartbeat in time");
  }
  // The call has ended: its status says why.
  finished_ = true;
  stream_->Finish(&finish_status_, kFinish);
  if (Await(kFinish, deadline) != Wait::kOk) {
    context_.TryCancel();
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the heartbeat stream broke");
  }
  if (finish_status_.ok()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the master closed the heartbeat stream");
  }
  return finish_status_;
}

grpc::Status HeartbeatStream::Exchange(const v1::Heartbeat& beat, v1::HeartbeatAck* ack,
                                       std::chrono::system_clock::time_point deadline) {
  if (broken_) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the heartbeat stream is broken");
  }
  if (!started_) {
    if (Wait w = Await(kStart, deadline); w != Wait::kOk) return Fail(w, deadline);
    started_ = true;
  }
  stream_->Write(beat, kWrite);
  if (Wait w = Await(kWrite, deadline); w != Wait::kOk) return Fail(w, deadline);
  stream_->Read(ack, kRead);
  if (Wait w = Await(kRead, deadline); w != Wait::kOk) return Fail(w, deadline);
  return grpc::Status::OK;
}

}  // namespace cloudai::worker
