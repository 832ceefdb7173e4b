// FakeClusterService: an in-process ClusterService for tests of CloudAI clients.
//
// It listens on a free loopback port, checks the admin token like the master does
// (UNAUTHENTICATED when the `authorization` metadata is not "Bearer <token>"), records
// every request, and answers with canned replies the test sets beforehand. A method can be
// made to fail with any gRPC status.
//
// Thread safety: every method may be called from any thread; the gRPC handlers run on the
// server's threads and share state with the test under one mutex.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cloudai/v1/cluster.grpc.pb.h"

namespace cloudai::client::testing {

namespace v1 = ::cloudai::v1;

class FakeClusterService final : public v1::ClusterService::Service {
 public:
  struct Call {
    std::string method;         // "SubmitTask", ...
    std::string authorization;  // the metadata value as received ("" when absent)
    std::shared_ptr<google::protobuf::Message> request;
  };

  explicit FakeClusterService(std::string token) : token_(std::move(token)) {}

  // Canned replies. Set before the call that reads them.
  void SetAck(v1::Ack ack);
  void SetWorkers(v1::ListWorkersResponse workers);
  void SetWorker(v1::WorkerStatus worker);
  void SetTask(v1::TaskStatus task);  // GetTask, SubmitTask, AssignTask, CancelTask
  void SetTasks(v1::ListTasksResponse tasks);
  void SetQueue(v1::QueueStatusResponse queue);
  void SetLogChunks(std::vector<v1::LogChunk> chunks);
  // Makes `method` fail with `status` (after recording the call).
  void FailWith(const std::string& method, grpc::Status status);

  std::vector<Call> calls() const;
  // The last request of `method`, or nullptr.
  template <typename Request>
  std::shared_ptr<Request> LastRequest(const std::string& method) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = calls_.rbegin(); it != calls_.rend(); ++it) {
      if (it->method == method) return std::static_pointer_cast<Request>(it->request);
    }
    return nullptr;
  }

  grpc::Status RegisterWorker(grpc::ServerContext* context,
                              const v1::RegisterWorkerRequest* request, v1::Ack* response) override;
  grpc::Status UnregisterWorker(grpc::ServerContext* context, const v1::WorkerIdRequest* request,
                                v1::Ack* response) override;
  grpc::Status ListWorkers(grpc::ServerContext* context, const v1::ListWorkersRequest* request,
                           v1::ListWorkersResponse* response) override;
  grpc::Status GetWorker(grpc::ServerContext* context, const v1::WorkerIdRequest* request,
                         v1::WorkerStatus* response) override;
  grpc::Status SubmitTask(grpc::ServerContext* context, const v1::SubmitTaskRequest* request,
                          v1::TaskStatus* response) override;
  grpc::Status AssignTask(grpc::ServerContext* context, const v1::SubmitTaskRequest* request,
                          v1::TaskStatus* response) override;
  grpc::Status GetTask(grpc::ServerContext* context, const v1::TaskId* request,
                       v1::TaskStatus* response) override;
  grpc::Status ListTasks(grpc::ServerContext* context, const v1::ListTasksRequest* request,
                         v1::ListTasksResponse* response) override;
  grpc::Status CancelTask(grpc::ServerContext* context, const v1::TaskId* request,
                          v1::TaskStatus* response) override;
  grpc::Status StreamTaskLogs(grpc::ServerContext* context, const v1::TaskLogRequest* request,
                              grpc::ServerWriter<v1::LogChunk>* writer) override;
  grpc::Status QueueStatus(grpc::ServerContext* context, const v1::QueueStatusRequest* request,
                           v1::QueueStatusResponse* response) override;

 private:
  // Records the call; returns the status the handler should end with first (not OK when
  // the token is wrong or the method was told to fail).
  grpc::Status Record(const std::string& method, grpc::ServerContext* context,
                      const google::protobuf::Message& request);

  const std::string token_;
  mutable std::mutex mu_;
  std::vector<Call> calls_;
  std::map<std::string, grpc::Status> failures_;
  v1::Ack ack_;
  v1::ListWorkersResponse workers_;
  v1::WorkerStatus worker_;
  v1::TaskStatus task_;
  v1::ListTasksResponse tasks_;
  v1::QueueStatusResponse queue_;
  std::vector<v1::LogChunk> chunks_;
};

// The service served on 127.0.0.1:<free port>.
class FakeClusterServer {
 public:
  explicit FakeClusterServer(std::string token = "test-token");
  ~FakeClusterServer();

  const std::string& address() const { return address_; }
  const std::string& token() const { return token_; }
  FakeClusterService& service() { return service_; }

 private:
  std::string token_;
  FakeClusterService service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace cloudai::client::testing
