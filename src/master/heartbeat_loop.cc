#include "master/heartbeat_loop.h"

#include <string>

#include "common/strings.h"
#include "master/task_input.h"

namespace cloudai::master {
namespace {

// SendHeartbeat: take the heartbeat, answer it, done.
class UnaryBeat final : public HeartbeatLoop::Call {
 public:
  UnaryBeat(MasterServiceImpl& service, grpc::ServerCompletionQueue& queue)
      : service_(service), queue_(queue), responder_(&context_) {
    service_.RequestSendHeartbeat(&context_, &beat_, &responder_, &queue_, &queue_, this);
  }

  void Proceed(bool ok) override {
    if (answered_ || !ok) {  // answered, or the server is shutting down
      delete this;
      return;
    }
    new UnaryBeat(service_, queue_);  // the next call
    service_.Beat(beat_, &ack_);
    answered_ = true;
    responder_.Finish(ack_, grpc::Status::OK, this);
  }

 private:
  MasterServiceImpl& service_;
  grpc::ServerCompletionQueue& queue_;
  grpc::ServerContext context_;
  grpc::ServerAsyncResponseWriter<v1::HeartbeatAck> responder_;
  v1::Heartbeat beat_;
  v1::HeartbeatAck ack_;
  bool answered_ = false;
};

// StreamHeartbeats: read a heartbeat, answer it, read the next, until the worker closes the
// stream or it breaks. Every heartbeat on a stream must name the worker the first one named.
class StreamedBeats final : public HeartbeatLoop::Call {
 public:
  StreamedBeats(MasterServiceImpl& service, grpc::ServerCompletionQueue& queue)
      : service_(service), queue_(queue), stream_(&context_) {
    service_.RequestStreamHeartbeats(&context_, &stream_, &queue_, &queue_, this);
  }

  void Proceed(bool ok) override {
    switch (state_) {
      case State::kWaiting:
        if (!ok) {  // the server is shutting down
          delete this;
          return;
        }
        new StreamedBeats(service_, queue_);  // the next worker's stream
        Read();
        return;
      case State::kReading:
        if (!ok) {  // the worker closed its side, or the stream broke
          Finish();
          return;
        }
        Answer();
        return;
      case State::kWriting:
        if (!ok) {
          Finish();
          return;
        }
        Read();
        return;
      case State::kFinishing:
        delete this;
        return;
    }
  }

 private:
  enum class State { kWaiting, kReading, kWriting, kFinishing };

  void Read() {
    state_ = State::kReading;
    stream_.Read(&beat_, this);
  }

  void Answer() {
    if (worker_id_.empty()) worker_id_ = beat_.worker_id();
    ack_.Clear();
    if (beat_.worker_id() != worker_id_) {
      ack_.set_success(false);
      ack_.set_message(StrCat("worker_id: this stream carries the heartbeats of ", worker_id_,
                              ", not of ", beat_.worker_id().substr(0, kMaxWorkerIdLength)));
    } else {
      service_.Beat(beat_, &ack_);
    }
    state_ = State::kWriting;
    stream_.Write(ack_, this);
  }

  void Finish() {
    state_ = State::kFinishing;
    stream_.Finish(grpc::Status::OK, this);
  }

  MasterServiceImpl& service_;
  grpc::ServerCompletionQueue& queue_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<v1::HeartbeatAck, v1::Heartbeat> stream_;
  State state_ = State::kWaiting;
  std::string worker_id_;
  v1::Heartbeat beat_;
  v1::HeartbeatAck ack_;
};

}  // namespace

HeartbeatLoop::HeartbeatLoop(MasterServiceImpl& service,
                             std::unique_ptr<grpc::ServerCompletionQueue> queue,
                             std::chrono::milliseconds batch_interval)
    : service_(service), queue_(std::move(queue)), batch_interval_(batch_interval) {}

HeartbeatLoop::~HeartbeatLoop() { Stop(); }

void HeartbeatLoop::Start() {
  new UnaryBeat(service_, *queue_);
  new StreamedBeats(service_, *queue_);
  thread_ = std::thread([this] { Run(); });
}

void HeartbeatLoop::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!thread_.joinable()) {  // never started: nothing was asked of gRPC
    queue_->Shutdown();
    void* tag;
    bool ok;
    while (queue_->Next(&tag, &ok)) {
    }
    return;
  }
  // Only the loop's thread starts operations on the queue, so it is the one to shut the
  // queue down: no operation can start on a queue already shut down.
  wake_.Set(queue_.get(), std::chrono::system_clock::now(), this);
  thread_.join();
}

void HeartbeatLoop::Run() {
  bool found_work = false;
  bool closing = false;
  // Hands a completion to its call; once closing, lets go of the call instead (the server
  // has cancelled it, and it has no other operation in flight).
  auto take = [&](void* tag, bool ok) {
    if (tag == this) {
      closing = true;
      queue_->Shutdown();
    } else if (closing) {
      delete static_cast<Call*>(tag);
    } else {
      static_cast<Call*>(tag)->Proceed(ok);
    }
  };
  // A poll that finds nothing to hand back may still have read from a connection (gRPC
  // handles one ready connection per poll), so the queue counts as drained only after a few
  // such polls in a row.
  constexpr int kEmptyPolls = 3;
  int empty_polls = 0;
  while (true) {
    void* tag = nullptr;
    bool ok = false;
    switch (queue_->AsyncNext(&tag, &ok, gpr_inf_past(GPR_CLOCK_MONOTONIC))) {
      case grpc::CompletionQueue::GOT_EVENT:
        take(tag, ok);
        found_work = true;
        empty_polls = 0;
        continue;
      case grpc::CompletionQueue::SHUTDOWN:
        return;
      case grpc::CompletionQueue::TIMEOUT:
        if (++empty_polls < kEmptyPolls) continue;
        empty_polls = 0;
        break;
    }
    if (found_work && batch_interval_.count() > 0 && !closing) {
      // Busy: let the next heartbeats gather, and take them together.
      found_work = false;
      std::this_thread::sleep_for(batch_interval_);
      continue;
    }
    // Idle: wait for the next completion.
    if (!queue_->Next(&tag, &ok)) return;
    take(tag, ok);
    found_work = true;
  }
}

}  // namespace cloudai::master
