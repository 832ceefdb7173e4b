#include "worker/agent/worker_service.h"

#include <chrono>
#include <thread>

#include "common/strings.h"
#include "worker/agent/agent.h"

namespace cloudai::worker {
namespace {

constexpr int kFollowWaitMs = 200;

v1::LogChunk Chunk(const std::string& task_id) {
  v1::LogChunk c;
  c.set_task_id(task_id);
  return c;
}

}  // namespace

grpc::Status WorkerServiceImpl::MasterRegister(grpc::ServerContext*, const v1::MasterInfo* request,
                                               v1::RegisterAck* response) {
  *response = agent_.MasterRegister(*request);
  return grpc::Status::OK;
}

grpc::Status WorkerServiceImpl::AssignTask(grpc::ServerContext*, const v1::Task* request,
                                           v1::TaskAck* response) {
  *response = agent_.AssignTask(*request);
  return grpc::Status::OK;
}

grpc::Status WorkerServiceImpl::CancelTask(grpc::ServerContext*, const v1::TaskId* request,
                                           v1::TaskAck* response) {
  *response = agent_.CancelTask(*request);
  return grpc::Status::OK;
}

grpc::Status WorkerServiceImpl::StreamTaskLogs(grpc::ServerContext* context,
                                               const v1::TaskLogRequest* request,
                                               grpc::ServerWriter<v1::LogChunk>* writer) {
  const std::string& id = request->task_id();
  std::optional<TaskView> view = agent_.tasks().Find(id);
  if (!view.has_value()) {
    v1::LogChunk c = Chunk(id);
    c.set_error(StrCat("task ", id, " not found on worker ", agent_.options().worker_id));
    c.set_is_final(true);
    writer->Write(c);
    return grpc::Status::OK;
  }
  const std::shared_ptr<LogSpool> spool = view->spool;
  int64_t offset = std::max<int64_t>(0, request->offset());
  while (true) {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    if (agent_.stopping()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the worker is shutting down");
    }
    absl::StatusOr<LogSpool::Chunk> chunk =
        spool->Read(offset, kLogChunkBytes, request->follow(), kFollowWaitMs);
    if (!chunk.ok()) {
      v1::LogChunk c = Chunk(id);
      c.set_error(StrCat("reading the log of task ", id, ": ",
                         std::string(chunk.status().message())));
      c.set_is_final(true);
      writer->Write(c);
      return grpc::Status::OK;
    }
    offset = chunk->next_offset;
    if (chunk->end) {
      // Everything was read; the driver reports the end right after closing the spool.
      std::optional<TaskView> now = agent_.tasks().Find(id);
      for (int i = 0; i < 250 && now.has_value() && now->spool == spool && !now->finished; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        now = agent_.tasks().Find(id);
      }
      v1::LogChunk c = Chunk(id);
      c.set_content(std::move(chunk->data));
      c.set_is_final(true);
      if (now.has_value() && now->spool == spool && now->finished) {
        c.set_status(now->exit.status);
      }
      writer->Write(c);
      return grpc::Status::OK;
    }
    if (!chunk->data.empty()) {
      v1::LogChunk c = Chunk(id);
      c.set_content(std::move(chunk->data));
      if (!writer->Write(c)) return grpc::Status(grpc::StatusCode::CANCELLED, "reader gone");
      continue;
    }
    if (!request->follow()) return grpc::Status::OK;  // all there is, and it still runs
  }
}

}  // namespace cloudai::worker
