// HeartbeatLoad: the heartbeats of many simulated CloudAI workers, sent from one process
// without one waiting for another, as independent machines would send them.
//
// Each worker has its heartbeat stream (StreamHeartbeats) open, or makes one unary call a
// heartbeat (SendHeartbeat); one thread sends each worker's heartbeat at its time, and one
// thread takes the acknowledgements off a shared completion queue. A worker whose previous
// heartbeat is still unanswered when the next is due counts that one as failed (a master that
// falls 5 s behind fails a heartbeat).
//
// Thread safety: Run from one thread at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "bench_cluster.h"
#include "cloudai/v1/cluster.grpc.pb.h"
#include "simulated_workers.h"

namespace cloudai::bench {

class HeartbeatLoad {
 public:
  struct Counts {
    int64_t acked = 0;   // acknowledged with success
    int64_t failed = 0;  // refused, broken, or still unanswered when the next was due
  };

  HeartbeatLoad(Simulator& sim, Transport transport)
      : sim_(sim), transport_(transport), workers_(sim.workers()) {
    completions_ = std::thread([this] { Complete(); });
    if (transport_ == Transport::kStream) OpenStreams();
  }

  ~HeartbeatLoad() {
    Stop();
    // Every call ends (cancelled), then the queue drains.
    for (Worker& w : workers_) {
      if (w.stream != nullptr) {
        w.context->TryCancel();
        w.stream->Finish(&w.status, Tag(&w - workers_.data(), kFinish));
      } else if (w.unary != nullptr && w.busy) {
        w.context->TryCancel();
      }
    }
    while (finishing_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    queue_.Shutdown();
    completions_.join();
  }

  // Every worker heartbeats every `period`, each at its own offset in the period
  // (`period / workers` apart), from `start` until Stop().
  void Start(std::chrono::steady_clock::time_point start, std::chrono::nanoseconds period) {
    sender_ = std::thread([this, start, period] {
      const int n = static_cast<int>(workers_.size());
      for (int64_t round = 0; !stop_; ++round) {
        for (int i = 0; i < n && !stop_; ++i) {
          std::this_thread::sleep_until(start + round * period + period * i / n);
          Send(i);
        }
      }
    });
  }

  void Stop() {
    stop_ = true;
    if (sender_.joinable()) sender_.join();
  }

  Counts counts() const { return {acked_.load(), failed_.load()}; }

 private:
  enum Op : uintptr_t { kStart = 0, kWrite = 1, kRead = 2, kFinish = 3 };
  static void* Tag(size_t worker, Op op) { return reinterpret_cast<void*>(worker << 2 | op); }

  struct Worker {
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::Heartbeat, v1::HeartbeatAck>> stream;
    std::unique_ptr<grpc::ClientAsyncResponseReader<v1::HeartbeatAck>> unary;
    v1::Heartbeat beat;
    v1::HeartbeatAck ack;
    grpc::Status status;
    std::atomic<bool> busy{false};  // a heartbeat is in flight (or the stream is starting)
  };

  void OpenStreams() {
    for (size_t i = 0; i < workers_.size(); ++i) {
      Worker& w = workers_[i];
      w.context = std::make_unique<grpc::ClientContext>();
      w.busy = true;
      w.stream = sim_.Stub(static_cast<int>(i))
                     .AsyncStreamHeartbeats(w.context.get(), &queue_, Tag(i, kStart));
      finishing_.fetch_add(1);
    }
    // Until every stream has started.
    while (opened_.load() < static_cast<int64_t>(workers_.size())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  void Send(int i) {
    Worker& w = workers_[i];
    if (w.busy.exchange(true)) {  // the last one is still unanswered
      failed_.fetch_add(1);
      return;
    }
    w.beat = sim_.Heartbeat(i);
    if (transport_ == Transport::kStream) {
      w.stream->Write(w.beat, Tag(i, kWrite));
      return;
    }
    w.context = std::make_unique<grpc::ClientContext>();
    w.context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    w.unary = sim_.Stub(i).AsyncSendHeartbeat(w.context.get(), w.beat, &queue_);
    w.unary->Finish(&w.ack, &w.status, Tag(i, kRead));
  }

  void Complete() {
    void* tag;
    bool ok;
    while (queue_.Next(&tag, &ok)) {
      const auto bits = reinterpret_cast<uintptr_t>(tag);
      Worker& w = workers_[bits >> 2];
      switch (static_cast<Op>(bits & 3)) {
        case kStart:
          w.busy = false;
          opened_.fetch_add(1);
          if (!ok) Die("cannot open a heartbeat stream");
          break;
        case kWrite:
          if (ok && !stop_) {  // (once stopping, no operation starts: the queue shuts down)
            w.stream->Read(&w.ack, Tag(&w - workers_.data(), kRead));
          } else if (!ok) {
            failed_.fetch_add(1);  // the stream broke: it stays busy
          }
          break;
        case kRead:
          ((ok && (w.stream != nullptr || w.status.ok()) && w.ack.success()) ? acked_ : failed_)
              .fetch_add(1);
          if (ok) w.busy = false;
          break;
        case kFinish:
          finishing_.fetch_sub(1);
          break;
      }
    }
  }

  Simulator& sim_;
  const Transport transport_;
  std::vector<Worker> workers_;
  grpc::CompletionQueue queue_;
  std::thread completions_;
  std::thread sender_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acked_{0}, failed_{0}, opened_{0}, finishing_{0};
};

}  // namespace cloudai::bench
