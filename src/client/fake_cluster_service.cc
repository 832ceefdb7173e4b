#include "client/fake_cluster_service.h"

#include <stdexcept>
#include <utility>

#include "common/strings.h"

namespace cloudai::client::testing {

void FakeClusterService::SetAck(v1::Ack ack) {
  std::lock_guard<std::mutex> lock(mu_);
  ack_ = std::move(ack);
}
void FakeClusterService::SetWorkers(v1::ListWorkersResponse workers) {
  std::lock_guard<std::mutex> lock(mu_);
  workers_ = std::move(workers);
}
void FakeClusterService::SetWorker(v1::WorkerStatus worker) {
  std::lock_guard<std::mutex> lock(mu_);
  worker_ = std::move(worker);
}
void FakeClusterService::SetTask(v1::TaskStatus task) {
  std::lock_guard<std::mutex> lock(mu_);
  task_ = std::move(task);
}
void FakeClusterService::SetTasks(v1::ListTasksResponse tasks) {
  std::lock_guard<std::mutex> lock(mu_);
  tasks_ = std::move(tasks);
}
void FakeClusterService::SetQueue(v1::QueueStatusResponse queue) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_ = std::move(queue);
}
void FakeClusterService::SetLogChunks(std::vector<v1::LogChunk> chunks) {
  std::lock_guard<std::mutex> lock(mu_);
  chunks_ = std::move(chunks);
}
void FakeClusterService::FailWith(const std::string& method, grpc::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_[method] = std::move(status);
}

std::vector<FakeClusterService::Call> FakeClusterService::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

grpc::Status FakeClusterService::Record(const std::string& method, grpc::ServerContext* context,
                                        const google::protobuf::Message& request) {
  Call call;
  call.method = method;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    call.authorization.assign(it->second.data(), it->second.size());
  }
  call.request.reset(request.New());
  call.request->CopyFrom(request);
  std::lock_guard<std::mutex> lock(mu_);
  const bool authorized = call.authorization == StrCat("Bearer ", token_);
  calls_.push_back(std::move(call));
  if (!authorized) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing or wrong admin token");
  }
  if (auto it = failures_.find(method); it != failures_.end()) return it->second;
  return grpc::Status::OK;
}

#define CLOUDAI_FAKE_UNARY(Method, Request, Response, field)                                    \
  grpc::Status FakeClusterService::Method(grpc::ServerContext* context, const Request* request, \
                                          Response* response) {                                 \
    if (grpc::Status s = Record(#Method, context, *request); !s.ok()) return s;                 \
    std::lock_guard<std::mutex> lock(mu_);                                                      \
    *response = field;                                                                          \
    return grpc::Status::OK;                                                                    \
  }

CLOUDAI_FAKE_UNARY(RegisterWorker, v1::RegisterWorkerRequest, v1::Ack, ack_)
CLOUDAI_FAKE_UNARY(UnregisterWorker, v1::WorkerIdRequest, v1::Ack, ack_)
CLOUDAI_FAKE_UNARY(ListWorkers, v1::ListWorkersRequest, v1::ListWorkersResponse, workers_)
CLOUDAI_FAKE_UNARY(GetWorker, v1::WorkerIdRequest, v1::WorkerStatus, worker_)
CLOUDAI_FAKE_UNARY(SubmitTask, v1::SubmitTaskRequest, v1::TaskStatus, task_)
CLOUDAI_FAKE_UNARY(AssignTask, v1::SubmitTaskRequest, v1::TaskStatus, task_)
CLOUDAI_FAKE_UNARY(GetTask, v1::TaskId, v1::TaskStatus, task_)
CLOUDAI_FAKE_UNARY(ListTasks, v1::ListTasksRequest, v1::ListTasksResponse, tasks_)
CLOUDAI_FAKE_UNARY(CancelTask, v1::TaskId, v1::TaskStatus, task_)
CLOUDAI_FAKE_UNARY(QueueStatus, v1::QueueStatusRequest, v1::QueueStatusResponse, queue_)

#undef CLOUDAI_FAKE_UNARY

grpc::Status FakeClusterService::StreamTaskLogs(grpc::ServerContext* context,
                                                const v1::TaskLogRequest* request,
                                                grpc::ServerWriter<v1::LogChunk>* writer) {
  if (grpc::Status s = Record("StreamTaskLogs", context, *request); !s.ok()) return s;
  std::vector<v1::LogChunk> chunks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    chunks = chunks_;
  }
  for (const v1::LogChunk& chunk : chunks) {
    if (!writer->Write(chunk)) break;
  }
  return grpc::Status::OK;
}

FakeClusterServer::FakeClusterServer(std::string token)
    : token_(std::move(token)), service_(token_) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service_);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    throw std::runtime_error("FakeClusterServer: cannot listen on 127.0.0.1");
  }
  address_ = StrCat("127.0.0.1:", port);
}

FakeClusterServer::~FakeClusterServer() {
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

}  // namespace cloudai::client::testing
