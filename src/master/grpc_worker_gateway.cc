#include "master/grpc_worker_gateway.h"

#include <functional>
#include <iostream>
#include <thread>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "common/strings.h"
#include "master/proto_convert.h"

namespace cloudai::master {

GrpcWorkerGateway::GrpcWorkerGateway(GrpcWorkerGatewayOptions options)
    : options_(std::move(options)) {
  const int n = std::max(1, options_.sender_threads);
  for (int i = 0; i < n; ++i) {
    auto sender = std::make_unique<Sender>();
    Sender* raw = sender.get();
    sender->thread = std::thread([this, raw] { Run(*raw); });
    senders_.push_back(std::move(sender));
  }
}

GrpcWorkerGateway::~GrpcWorkerGateway() { Stop(); }

void GrpcWorkerGateway::Stop() {
  stopping_.store(true);
  for (auto& sender : senders_) {
    std::lock_guard<std::mutex> lock(sender->mu);
    sender->jobs.clear();
    sender->ready.notify_all();
  }
  for (auto& sender : senders_) {
    if (sender->thread.joinable()) sender->thread.join();
  }
}

void GrpcWorkerGateway::Run(Sender& sender) {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(sender.mu);
      sender.ready.wait(lock, [&] { return stopping_ || !sender.jobs.empty(); });
      if (stopping_) return;
      job = std::move(sender.jobs.front());
      sender.jobs.pop_front();
    }
    job();
  }
}

void GrpcWorkerGateway::Enqueue(const std::string& worker_id, std::function<void()> job) {
  Sender& sender = *senders_[std::hash<std::string>{}(worker_id) % senders_.size()];
  std::lock_guard<std::mutex> lock(sender.mu);
  if (stopping_) return;
  sender.jobs.push_back(std::move(job));
  sender.ready.notify_one();
}

std::shared_ptr<v1::WorkerService::Stub> GrpcWorkerGateway::Stub(const std::string& worker_id,
                                                                 const std::string& address) {
  std::lock_guard<std::mutex> lock(channels_mu_);
  Link& link = links_[worker_id];
  if (!link.stub || link.address != address) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
    // Reconnect to a worker that comes back within seconds, not gRPC's default minutes.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2'000);
    args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, 80 << 20);
    link.address = address;
    link.stub = v1::WorkerService::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  }
  return link.stub;
}

void GrpcWorkerGateway::Forget(const std::string& worker_id) {
  std::lock_guard<std::mutex> lock(channels_mu_);
  links_.erase(worker_id);
}

namespace {

WorkerReply ReplyOf(const grpc::Status& status, bool success, const std::string& message) {
  WorkerReply reply;
  reply.delivered = status.ok();
  reply.accepted = status.ok() && success;
  reply.message = status.ok() ? message : status.error_message();
  if (!status.ok() && reply.message.empty()) {
    reply.message = StrCat("gRPC status ", static_cast<int>(status.error_code()));
  }
  return reply;
}

// Makes the call, and once more after a short pause when it failed with UNAVAILABLE
// (the connection broke or was not up yet); the calls made this way are idempotent.
grpc::Status CallWithRetry(const std::function<grpc::Status()>& call) {
  grpc::Status status = call();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = call();
  }
  return status;
}

}  // namespace

void GrpcWorkerGateway::AnnounceMaster(const std::string& worker_id, const std::string& address) {
  Enqueue(worker_id, [this, worker_id, address] {
    v1::MasterInfo info;
    info.set_master_id(options_.master_id);
    info.set_master_address(options_.master_address);
    v1::RegisterAck ack;
    grpc::Status status = CallWithRetry([&] {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
      return Stub(worker_id, address)->MasterRegister(&context, info, &ack);
    });
    if (!status.ok()) {
      std::cerr << "cloudai-master: could not notify worker " << worker_id << " at " << address
                << ": " << status.error_message() << std::endl;
    } else if (!ack.success()) {
      std::cerr << "cloudai-master: worker " << worker_id << " refused the master: "
                << ack.message() << std::endl;
    }
  });
}

void GrpcWorkerGateway::DeliverAssignment(const std::string& worker_id, const std::string& address,
                                          const store::TaskRecord& task, ReplyCallback done) {
  v1::Task message = TaskToProto(task);
  Enqueue(worker_id, [this, worker_id, address, message = std::move(message),
                      done = std::move(done)] {
    // A worker accepts an assignment it already has without running it twice, so a
    // call that failed in transit (a connection reset) is safe to make once more.
    v1::TaskAck ack;
    grpc::Status status = CallWithRetry([&] {
      ack.Clear();
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
      return Stub(worker_id, address)->AssignTask(&context, message, &ack);
    });
    done(ReplyOf(status, ack.success(), ack.message()));
  });
}

void GrpcWorkerGateway::DeliverCancel(const std::string& worker_id, const std::string& address,
                                      const std::string& task_id, ReplyCallback done) {
  Enqueue(worker_id, [this, worker_id, address, task_id, done = std::move(done)] {
    v1::TaskId request;
    request.set_task_id(task_id);
    v1::TaskAck ack;
    grpc::Status status = CallWithRetry([&] {
      ack.Clear();
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
      return Stub(worker_id, address)->CancelTask(&context, request, &ack);
    });
    done(ReplyOf(status, ack.success(), ack.message()));
  });
}

}  // namespace cloudai::master
