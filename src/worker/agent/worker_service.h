// WorkerServiceImpl: the gRPC face of the CloudAI worker (WorkerService in
// proto/cloudai/v1/cluster.proto). MasterRegister, AssignTask and CancelTask are passed to
// the Agent; StreamTaskLogs is served here from the task's spool:
//
//   - from request.offset, in chunks of at most 64 KiB;
//   - with follow, it keeps sending output as the task writes it, until the task has ended
//     and everything was sent, then a last chunk with is_final=true and the final status
//     ("completed", "failed", "cancelled"; `error` stays empty: it is kept for failures of
//     the stream itself);
//   - without follow, it sends what there is now, plus the final chunk when the task has
//     already ended;
//   - for a task the worker does not know, one chunk with error
//     "task <id> not found on worker <id>" and is_final=true.
// The stream ends early when the caller goes away or the worker shuts down.
//
// Thread safety: gRPC calls the methods from its threads, concurrently.
#pragma once

#include "cloudai/v1/cluster.grpc.pb.h"

namespace cloudai::worker {

class Agent;

inline constexpr int64_t kLogChunkBytes = 64 * 1024;

class WorkerServiceImpl final : public v1::WorkerService::Service {
 public:
  explicit WorkerServiceImpl(Agent& agent) : agent_(agent) {}

  grpc::Status MasterRegister(grpc::ServerContext* context, const v1::MasterInfo* request,
                              v1::RegisterAck* response) override;
  grpc::Status AssignTask(grpc::ServerContext* context, const v1::Task* request,
                          v1::TaskAck* response) override;
  grpc::Status CancelTask(grpc::ServerContext* context, const v1::TaskId* request,
                          v1::TaskAck* response) override;
  grpc::Status StreamTaskLogs(grpc::ServerContext* context, const v1::TaskLogRequest* request,
                              grpc::ServerWriter<v1::LogChunk>* writer) override;

 private:
  Agent& agent_;
};

}  // namespace cloudai::worker
